import { describe, expect, it } from 'vitest';
import { pipelineCounts, rebuild } from '../index.js';
import { appendAll, demoRules, eventsFor, isoAt } from '../test-support.js';
import { freshStores } from '../test-stores.js';

const rules = demoRules();

describe('pipelineCounts', () => {
  const fresh = freshStores();

  it('given an open SQL, a disqualified lead and an open lead, then only the open ones are held, per stage', async () => {
    const { store, projections } = fresh;
    const sql = eventsFor({ leadId: 'held-sql' }, 'hs');
    const junk = eventsFor({ leadId: 'junk' }, 'jk');
    const lead = eventsFor({ leadId: 'held-lead' }, 'hl');
    await appendAll(store, [
      sql('demo_requested', isoAt(0)),
      junk('form_submit', isoAt(0, 60), { formId: 'f' }),
      junk('disqualified', isoAt(1), { reason: 'spam' }),
      lead('form_submit', isoAt(2), { formId: 'f' }),
    ]);
    await rebuild({ store, projections, config: rules });
    expect(pipelineCounts(projections)).toEqual({ sql: 1, lead: 1 });
  });
});

describe('pipelineCounts by account', () => {
  const fresh = freshStores();
  const withWebinarMql = demoRules('demo-rules-accounts', { stageModel: { builtin: 'classic_b2b', entry: { mql: [{ id: 'mql.webinar', when: { event: 'webinar_attended' } }] } } });

  it('given accounts whose leads sit in different stages, then each open account is held once, at its furthest stage', async () => {
    const { store, projections } = fresh;
    /** a lead's events, each carrying its account (none for a lone lead) */
    const leadOf = (leadId: string, accountId?: string) => {
      const events = eventsFor({ leadId }, leadId);
      return (type: Parameters<typeof events>[0], at: string, properties: Record<string, unknown> = {}) => events(type, at, properties, accountId === undefined ? {} : { accountId });
    };
    const [a1, a2] = [leadOf('a1', 'acme'), leadOf('a2', 'acme')];
    const [b1, b2] = [leadOf('b1', 'beta'), leadOf('b2', 'beta')];
    const [g1, g2] = [leadOf('g1', 'gamma'), leadOf('g2', 'gamma')];
    const d1 = leadOf('d1', 'delta');
    const solo = leadOf('solo');
    const lone = leadOf('lone');
    await appendAll(store, [
      // acme: a1 reached SQL, a2 is a lead: held at sql
      a1('form_submit', isoAt(0), { formId: 'f' }),
      a1('demo_requested', isoAt(1)),
      a2('form_submit', isoAt(2), { formId: 'f' }),
      // beta: b1 reached SQL and was disqualified, b2 attended a webinar (MQL) and is open: the account is open, held at sql
      b1('demo_requested', isoAt(0)),
      b1('disqualified', isoAt(3), { reason: 'spam' }),
      b2('form_submit', isoAt(1), { formId: 'f' }),
      b2('webinar_attended', isoAt(2), { webinarId: 'w' }),
      // gamma: g1 paid (customer), g2 is a lead: the account is won, not pipeline
      g1('form_submit', isoAt(0), { formId: 'f' }),
      g1('payment', isoAt(4), { amount: 100, currency: 'EUR' }),
      g2('form_submit', isoAt(1), { formId: 'f' }),
      // delta: its one lead is disqualified, so is the account
      d1('form_submit', isoAt(0), { formId: 'f' }),
      d1('disqualified', isoAt(2), { reason: 'spam' }),
      // two leads without an account: each counts as its own
      solo('form_submit', isoAt(0), { formId: 'f' }),
      lone('form_submit', isoAt(0), { formId: 'f' }),
      lone('webinar_attended', isoAt(1), { webinarId: 'w' }),
    ]);
    await rebuild({ store, projections, config: withWebinarMql });
    // by lead, the open ones: a1 at sql; b2 and lone at mql; a2, g2 and solo at lead
    expect(pipelineCounts(projections)).toEqual({ sql: 1, mql: 2, lead: 3 });
    // by account: acme and beta at sql, lone at mql, solo at lead; gamma won, delta disqualified
    expect(pipelineCounts(projections, { unit: 'accounts' })).toEqual({ sql: 2, mql: 1, lead: 1 });
  });
});
