import { describe, expect, it } from 'vitest';
import { getLead, listLeads, rebuild } from '../index.js';
import { appendAll, demoEvents, demoRules, eventsFor, isoAt } from '../test-support.js';
import { freshStores } from '../test-stores.js';

const rules = demoRules();
const HOUR = 3_600_000;

describe('lead queries', () => {
  const fresh = freshStores();

  /** A lead that becomes an MQL on day 1 (demo webinar + pricing), gets an owner, and whose first call comes 3 hours later. */
  async function mqlWithLateCall(): Promise<void> {
    const e = eventsFor({ leadId: 'L1' }, 'L1');
    await appendAll(fresh.store, [
      e('identify', isoAt(0), { email: 'ann@bank.example', title: 'VP Finance', role: 'economic_buyer', companySize: 3000, industry: 'Financial Services', country: 'US', businessUnit: 'enterprise' }),
      e('form_submit', isoAt(1), { formId: 'contact' }),
      e('owner_assigned', isoAt(1, 5), { ownerId: 'rep-1' }),
      e('call', isoAt(1, 300), { direction: 'outbound', outcome: 'no_answer', durationSeconds: 0 }),
    ]);
  }

  it('given a lead, when read without an as-of, then it is the lead as of its last event, with SLA facts', async () => {
    const { store, projections } = fresh;
    await mqlWithLateCall();
    await rebuild({ store, projections, config: rules });
    const lead = (await getLead({ projections }, 'L1'))!;
    expect(lead).toMatchObject({ kind: 'lead', id: 'L1', stage: 'mql', owner: 'rep-1', businessUnit: 'enterprise', asOf: isoAt(1, 300), configVersion: 'demo-rules-1' });
    // the default SLA: first sales touch within 240 minutes of MQL, 6 outbound calls in 7 days
    expect(lead.sla).toEqual({
      startedAt: isoAt(1),
      firstTouch: { dueAt: isoAt(1, 240), at: isoAt(1, 300), minutes: 300, status: 'breached' },
      attempts: { required: 6, count: 1, windowEndsAt: isoAt(8), status: 'pending' },
      breached: true,
    });
    expect(await getLead({ projections }, 'nobody')).toBeUndefined();
  });

  it('given a lead, when read as of an instant, then the domain evaluates it then (before its last event, or later with decay and SLA deadlines)', async () => {
    const { store, projections } = fresh;
    await mqlWithLateCall();
    await rebuild({ store, projections, config: rules });
    const source = { projections, store, config: rules };
    const early = (await getLead(source, 'L1', isoAt(1, 60)))!;
    expect(early).toMatchObject({ asOf: isoAt(1, 60), stage: 'mql', touchpoints: 3, sla: { firstTouch: { status: 'pending', at: null } } });
    const later = (await getLead(source, 'L1', Date.parse(isoAt(9))))!;
    expect(later.sla!.attempts).toMatchObject({ count: 1, status: 'breached' });
    const atEvent = (await getLead({ projections }, 'L1'))!;
    expect(later.scores.engagement).toBeLessThan(atEvent.scores.engagement);
    await expect(getLead({ projections }, 'L1', isoAt(9))).rejects.toThrow(/needs the event store/);
  });

  it('given demo leads, when listed with filters a page at a time, then pages neither repeat nor skip and every lead matches', async () => {
    const { store, projections } = fresh;
    await appendAll(store, demoEvents(15_000, 6));
    await rebuild({ store, projections, config: rules });
    const all = projections.db.prepare("SELECT id FROM leads WHERE kind = 'lead' ORDER BY last_touch_at DESC, subject").pluck().all() as string[];
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = listLeads(projections, {}, cursor, 7);
      seen.push(...page.items.map((l) => l.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(all);

    for (const filter of [{ stage: 'mql' }, { grade: 'hot' as const }, { quadrant: 'fit_interested' as const }, { businessUnit: 'enterprise' }, { slaBreached: true }]) {
      const items = listLeads(projections, filter, undefined, 1000).items;
      const [column, value] = Object.entries(filter)[0]!;
      const expected = projections.db
        .prepare(`SELECT COUNT(*) FROM leads WHERE kind = 'lead' AND ${column === 'businessUnit' ? 'business_unit' : column === 'slaBreached' ? 'sla_breached' : column} = ?`)
        .pluck()
        .get(value === true ? 1 : value);
      expect({ filter, count: items.length }).toEqual({ filter, count: expected });
    }
    const owner = listLeads(projections, { owner: 'nobody' }).items;
    expect(owner).toEqual([]);
    const anonymous = listLeads(projections, { kind: 'anonymous' }, undefined, 5).items;
    expect(anonymous.every((v) => v.kind === 'anonymous' && v.mergedInto === null)).toBe(true);
    expect(() => listLeads(projections, {}, 'not-a-cursor')).toThrow(/cursor/);
  });

  it('given an MQL not yet touched, when listing SLA breaches as of an instant, then it is breached only after its first-touch deadline', async () => {
    const { store, projections } = fresh;
    const e = eventsFor({ leadId: 'L2' }, 'L2');
    await appendAll(store, [
      e('identify', isoAt(0), { email: 'bo@bank.example', title: 'CFO', role: 'economic_buyer', companySize: 5000, industry: 'Financial Services', country: 'US' }),
      e('form_submit', isoAt(1), { formId: 'contact' }),
    ]);
    await rebuild({ store, projections, config: rules });
    const breached = (asOf: number) => listLeads(projections, { slaBreached: true, asOf }).items.map((l) => l.id);
    const start = Date.parse(isoAt(1));
    expect(breached(start + 3 * HOUR)).toEqual([]);
    expect(breached(start + 5 * HOUR)).toEqual(['L2']);
    expect(listLeads(projections, { slaBreached: false, asOf: start + 5 * HOUR }).items).toEqual([]);
    // without an as-of: as of the lead's last event, when the deadline was still ahead
    expect(listLeads(projections, { slaBreached: true }).items).toEqual([]);
  });
});
