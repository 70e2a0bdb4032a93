import { describe, expect, it } from 'vitest';
import { evolve, foldLead, leadStateAsOf, ownerCapBreaches, ownerLoad } from './index.js';
import { DAY, eventsFor, isoAt, msAt, ruleConfig } from './test-events.js';

const lead = { kind: 'lead', leadId: 'lead-1' } as const;
// A form makes an MQL here, so each test starts its clock with one event.
const config = ruleConfig({ stageModel: { builtin: 'classic_b2b', entry: { mql: [{ id: 'mql.form', when: { event: 'form_submit' } }] } } });
const call = (e: ReturnType<typeof eventsFor>, day: number) => e('call', isoAt(day), { direction: 'outbound', outcome: 'no_answer', durationSeconds: 0 });

describe('pool rules', () => {
  it('given an MQL with no sales touch, when more than 10 days pass, then it is recycled as of the deadline, with no new event needed', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const mql = foldLead(lead, [e('form_submit', isoAt(0), { formId: 'f' })], config);
    expect(leadStateAsOf(mql, msAt(10), config).sideState).toBeUndefined();
    expect(leadStateAsOf(mql, msAt(10) + 1, config)).toMatchObject({
      stage: 'mql',
      sideState: { state: 'recycled', reason: 'no_follow_up', rule: 'pool.no_follow_up', since: msAt(10) },
    });
  });

  it('given a sales touch on day 5, when the clock runs, then the 10 quiet days count from the touch', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const s = foldLead(lead, [e('form_submit', isoAt(0), { formId: 'f' }), call(e, 5)], config);
    expect(leadStateAsOf(s, isoAt(12), config).sideState).toBeUndefined();
    expect(leadStateAsOf(s, isoAt(16), config).sideState).toMatchObject({ state: 'recycled', since: msAt(15) });
  });

  it('given a recycled lead, when an e-mail open arrives it stays recycled; when a sales touch arrives the episode closes and is kept in history', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const base = [e('form_submit', isoAt(0), { formId: 'f' }), e('email_open', isoAt(12))];
    const stillRecycled = foldLead(lead, base, config);
    expect(leadStateAsOf(stillRecycled, isoAt(13), config).sideState).toMatchObject({ state: 'recycled', since: msAt(10) });
    const touched = foldLead(lead, [...base, call(e, 20)], config);
    const snap = leadStateAsOf(touched, isoAt(21), config);
    expect(snap.sideState).toBeUndefined();
    expect(snap.sideHistory).toEqual([{ state: 'recycled', reason: 'no_follow_up', rule: 'pool.no_follow_up', eventId: undefined, from: msAt(10), until: msAt(20) }]);
  });

  it('given an opportunity open for more than 35 days, when sales keep calling, then it still goes back to the pool; paid in time it does not', () => {
    const opportunityConfig = ruleConfig({ stageModel: { builtin: 'with_opportunity' } });
    const e = eventsFor({ leadId: 'lead-1' });
    const open = [e('quote', isoAt(0), { quoteId: 'q', amount: 5000, currency: 'EUR' }), ...[7, 14, 21, 28, 35].map((d) => call(e, d))];
    expect(leadStateAsOf(foldLead(lead, open, opportunityConfig), msAt(35) + 1, opportunityConfig)).toMatchObject({
      stage: 'opportunity',
      sideState: { state: 'recycled', reason: 'stalled', rule: 'pool.stalled_opportunity', since: msAt(35) },
    });
    const paid = foldLead(lead, [...open, e('payment', isoAt(20), { amount: 5000, currency: 'EUR' })], opportunityConfig);
    expect(leadStateAsOf(paid, isoAt(60), opportunityConfig)).toMatchObject({ stage: 'customer', sideState: undefined });
  });

  it('given a lost deal, when it is recorded, then the lead is recycled at once; sales accepting it again ends that', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const lost = [e('sales_accepted', isoAt(0)), e('deal_lost', isoAt(3), { reason: 'timing' })];
    expect(leadStateAsOf(foldLead(lead, lost, config), isoAt(4), config).sideState).toEqual({ state: 'recycled', reason: 'deal_lost', rule: undefined, since: msAt(3) });
    const back = foldLead(lead, [...lost, e('sales_accepted', isoAt(40))], config);
    const snap = leadStateAsOf(back, isoAt(41), config);
    expect(snap.sideState).toBeUndefined();
    expect(snap.sideHistory.map((h) => [h.reason, h.from, h.until])).toEqual([['deal_lost', msAt(3), msAt(40)]]);
  });

  it('given leads per owner, when an owner holds more than the cap, then the breach names owner, cap and count', () => {
    const capped = ruleConfig({ pool: { ownerCaps: { activeLeads: 2, activeCustomers: 1 } } });
    const snapshot = (id: string, events: (e: ReturnType<typeof eventsFor>) => ReturnType<ReturnType<typeof eventsFor>>[]) => {
      const e = eventsFor({ leadId: id });
      return leadStateAsOf(foldLead({ kind: 'lead', leadId: id }, events(e), capped), isoAt(2), capped);
    };
    const owned = (owner: string) => (e: ReturnType<typeof eventsFor>) => [e('owner_assigned', isoAt(0), { ownerId: owner }), e('form_submit', isoAt(0, 1), { formId: 'f' })];
    const snaps = [
      snapshot('a', owned('rep-1')),
      snapshot('b', owned('rep-1')),
      snapshot('c', owned('rep-1')),
      snapshot('d', owned('rep-2')),
      snapshot('e', (e) => [...owned('rep-1')(e), e('disqualified', isoAt(1), { reason: 'spam' })]),
      snapshot('f', (e) => [...owned('rep-2')(e), e('payment', isoAt(1), { amount: 1, currency: 'EUR' })]),
    ];
    const load = ownerLoad(snaps);
    expect(Object.fromEntries(load)).toEqual({ 'rep-1': { activeLeads: 3, activeCustomers: 0 }, 'rep-2': { activeLeads: 1, activeCustomers: 1 } });
    expect(ownerCapBreaches(load, capped)).toEqual([{ ownerId: 'rep-1', cap: 'activeLeads', count: 3, limit: 2 }]);
  });
});

describe('SLA', () => {
  it('given an MQL at 09:00, when the first outbound call is at 09:30, then the first-touch SLA is met in 30 minutes', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const s = foldLead(lead, [e('form_submit', isoAt(0), { formId: 'f' }), e('call', isoAt(0, 30), { direction: 'outbound', outcome: 'connected', durationSeconds: 120 })], config);
    expect(leadStateAsOf(s, isoAt(0, 30), config).sla?.firstTouch).toEqual({ dueAt: msAt(0, 240), at: msAt(0, 30), eventId: 'lead-1-2', minutes: 30, status: 'met' });
  });

  it('given no sales touch, when the as-of passes the 240-minute target, then it is breached; a late touch stays a breach', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const mql = foldLead(lead, [e('form_submit', isoAt(0), { formId: 'f' })], config);
    expect(leadStateAsOf(mql, isoAt(0, 240), config).sla?.firstTouch.status).toBe('pending');
    expect(leadStateAsOf(mql, isoAt(0, 241), config).sla?.firstTouch.status).toBe('breached');
    const late = evolve(mql, e('meeting', isoAt(0, 300)), config);
    expect(leadStateAsOf(late, isoAt(1), config).sla?.firstTouch).toMatchObject({ minutes: 300, status: 'breached' });
  });

  it('given outbound calls, when six fall within the first 7 days the persistence SLA is met; with two inside (and one after) it is pending, then breached', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const form = e('form_submit', isoAt(0), { formId: 'f' });
    const six = foldLead(lead, [form, ...[0, 1, 2, 3, 4, 5].map((d) => call(e, d + 0.5))], config);
    expect(leadStateAsOf(six, isoAt(6), config).sla?.attempts).toEqual({ required: 6, count: 6, windowEndsAt: msAt(7), status: 'met' });
    const twoInside = foldLead(lead, [form, ...[1, 2, 8].map((d) => call(e, d))], config);
    expect(leadStateAsOf(twoInside, isoAt(6), config).sla?.attempts).toMatchObject({ count: 2, status: 'pending' });
    expect(leadStateAsOf(twoInside, msAt(7), config).sla?.attempts).toMatchObject({ count: 2, status: 'breached' });
  });

  it('given a BANT call that makes an SQL directly, when the SLA starts at the skipped MQL, then that call is the first touch, 0 minutes', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const s = foldLead(lead, [e('call', isoAt(0), { direction: 'inbound', outcome: 'connected', durationSeconds: 900, bant: { budget: true, authority: true, need: true, timeline: true } })], config);
    const snap = leadStateAsOf(s, isoAt(1), config);
    expect(snap.stages.find((x) => x.stage === 'mql')).toMatchObject({ skipped: true, at: msAt(0) });
    expect(snap.sla).toMatchObject({ startedAt: msAt(0), firstTouch: { minutes: 0, status: 'met' } });
    expect(snap.sla?.attempts?.windowEndsAt).toBe(msAt(0) + 7 * DAY);
  });
});
