import { describe, expect, it } from 'vitest';
import { foldLead, leadStateAsOf, stageTransitions } from './index.js';
import { eventsFor, isoAt, msAt, ruleConfig } from './test-events.js';

/* The demand waterfall built-in: inquiry -> MQL -> SAL -> SQL -> SQO -> won, with disqualified and recycled as side states. */

const lead = { kind: 'lead', leadId: 'lead-1' } as const;
const config = ruleConfig({ stageModel: { builtin: 'demand_waterfall' } });
const stagesOf = (events: Parameters<typeof foldLead>[1]) => stageTransitions(foldLead(lead, events, config), config).map((t) => [t.to, t.skipped, t.rule]);
// fit 100 under the default fit rules (an economic buyer in a large company), so a form makes an ICP MQL
const ICP = { email: 'ann@bank.example', title: 'VP Marketing', role: 'economic_buyer', companySize: 2000, company: 'Bank' };
const BANT = { budget: true, authority: true, need: true, timeline: true };

describe('the demand waterfall model', () => {
  it('given an ICP inquiry, when sales accept it, qualify it on a call, quote and get paid, then it walks every stage by its own rule and is won', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const events = [
      e('identify', isoAt(0), ICP), // contact details: inquiry
      e('form_submit', isoAt(1), { formId: 'contact' }), // fit >= 80 and a form: MQL
      e('sales_accepted', isoAt(2), { ownerId: 'rep-1' }), // SAL
      e('call', isoAt(3), { direction: 'outbound', outcome: 'connected', durationSeconds: 900, bant: BANT }), // SQL
      e('quote', isoAt(10), { quoteId: 'q1', amount: 24000, currency: 'EUR' }), // SQO
      e('payment', isoAt(30), { amount: 24000, currency: 'EUR' }), // won
    ];
    expect(stagesOf(events)).toEqual([
      ['inquiry', false, 'inquiry.contact'],
      ['mql', false, 'mql.icp_form'],
      ['sal', false, 'sal.accepted'],
      ['sql', false, 'sql.bant'],
      ['sqo', false, 'sqo.opportunity'],
      ['won', false, 'won.paid_or_signed'],
    ]);
    expect(leadStateAsOf(foldLead(lead, events, config), isoAt(30), config)).toMatchObject({ stage: 'won', stageEnteredAt: msAt(30), isCustomer: true, owner: 'rep-1' });
  });

  it('given a demo request, when nothing else happens, then it is only an inquiry (no jump to SQL); sales accepting it passes MQL as skipped', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const requested = [e('demo_requested', isoAt(0))];
    expect(stagesOf(requested)).toEqual([['inquiry', false, 'inquiry.contact']]);
    expect(stagesOf([...requested, e('sales_accepted', isoAt(1))])).toEqual([
      ['inquiry', false, 'inquiry.contact'],
      ['mql', true, 'sal.accepted'],
      ['sal', false, 'sal.accepted'],
    ]);
  });

  it('given an accepted lead, when a demo is only scheduled it stays a SAL; a held demo makes an SQO, passing SQL as skipped', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const accepted = [e('form_submit', isoAt(0), { formId: 'f' }), e('sales_accepted', isoAt(1))];
    expect(stagesOf([...accepted, e('demo_scheduled', isoAt(2), { demoId: 'd1', scheduledFor: isoAt(5) })]).map(([s]) => s)).toEqual(['inquiry', 'mql', 'sal']);
    expect(stagesOf([...accepted, e('demo_held', isoAt(5), { demoId: 'd1' })]).slice(3)).toEqual([
      ['sql', true, 'sqo.opportunity'],
      ['sqo', false, 'sqo.opportunity'],
    ]);
  });

  it('given a SAL that is disqualified, when a quote arrives later, then it stays a disqualified SAL', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const state = foldLead(
      lead,
      [e('form_submit', isoAt(0), { formId: 'f' }), e('sales_accepted', isoAt(1)), e('disqualified', isoAt(2), { reason: 'no_budget' }), e('quote', isoAt(3), { quoteId: 'q', amount: 1, currency: 'EUR' })],
      config,
    );
    expect(leadStateAsOf(state, isoAt(4), config)).toMatchObject({ stage: 'sal', sideState: { state: 'disqualified', reason: 'no_budget', since: msAt(2) } });
  });

  it('given the pool defaults, when an SQO stays open more than 35 days it is recycled as stalled; an MQL without a sales touch for 10 days is recycled too', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const sqo = foldLead(lead, [e('sales_accepted', isoAt(0)), e('poc_started', isoAt(1))], config);
    expect(leadStateAsOf(sqo, msAt(36), config).sideState).toBeUndefined();
    expect(leadStateAsOf(sqo, msAt(36) + 1, config)).toMatchObject({ stage: 'sqo', sideState: { state: 'recycled', reason: 'stalled', rule: 'pool.stalled_sqo', since: msAt(36) } });

    const f = eventsFor({ leadId: 'lead-1' });
    const mql = foldLead(lead, [f('identify', isoAt(0), ICP), f('form_submit', isoAt(0, 1), { formId: 'f' })], config);
    expect(leadStateAsOf(mql, msAt(10, 1) + 1, config)).toMatchObject({ stage: 'mql', sideState: { state: 'recycled', reason: 'no_follow_up', since: msAt(10, 1) } });
  });
});
