import type { SluiceEvent } from '@sluice/schemas';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LeadState, evolve, foldLead, initialLeadState, leadStateAsOf, touchpointsOf, transitionChanges } from './index.js';
import { type Emit, eventsFor, isoAt, msAt, ruleConfig } from './test-events.js';

const lead = { kind: 'lead', leadId: 'lead-1' } as const;
const config = ruleConfig();
/** Everything a state shows: its touchpoints, and the lead as of a day after the last event and as of each week. */
const observed = (s: LeadState) => ({ touchpoints: touchpointsOf(s), views: [7, 14, 21, 28, 35, 42, 60].map((d) => leadStateAsOf(s, isoAt(d), config)) });

/** A lead's month: visits, downloads, a form, calls with BANT, a disqualification and requalification, a payment. */
function month(e: Emit): SluiceEvent[] {
  return [
    e('visit', isoAt(0), {}, { channel: 'organic' }),
    e('page_view', isoAt(0, 3), { url: 'https://x.example/pricing', pageType: 'pricing' }),
    e('identify', isoAt(1), { email: 'ann@bank.example', title: 'VP Finance', role: 'economic_buyer', companySize: 3000, company: 'Bank' }),
    e('content_download', isoAt(2)),
    e('webinar_attended', isoAt(3), { webinarId: 'w1' }),
    e('content_download', isoAt(4)),
    e('call', isoAt(5), { direction: 'outbound', outcome: 'no_answer', durationSeconds: 0 }),
    e('disqualified', isoAt(6), { reason: 'no_budget' }),
    e('email_click', isoAt(9)),
    e('sales_accepted', isoAt(20), { ownerId: 'rep-1' }),
    e('call', isoAt(21), { direction: 'outbound', outcome: 'connected', durationSeconds: 900, bant: { budget: true, authority: true, need: true, timeline: true } }),
    e('visit', isoAt(21)), // same instant as the call: the id breaks the tie
    e('payment', isoAt(40), { amount: 12000, currency: 'EUR' }),
  ];
}

describe('arrival order and redelivery', () => {
  it('given an older event arriving last, when it is applied, then the state equals the in-order result', () => {
    const events = month(eventsFor({ leadId: 'lead-1' }));
    const inOrder = foldLead(lead, events, config);
    const disqualification = events[7]!;
    const late = foldLead(lead, [...events.filter((e) => e !== disqualification), disqualification], config);
    expect(observed(late)).toEqual(observed(inOrder));
  });

  it('given a late disqualification, when it lands before the stages it blocked, then transitionChanges reports the moved and removed transitions', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const form = e('form_submit', isoAt(0), { formId: 'f' });
    const demo = e('demo_requested', isoAt(2));
    const before = foldLead(lead, [form, demo], config);
    const after = evolve(before, e('disqualified', isoAt(1), { reason: 'spam' }), config);
    const changes = transitionChanges(before, after, config);
    expect(changes.upserts).toEqual([]);
    expect(changes.removals.map((t) => t.to)).toEqual(['mql', 'sql']);
    expect(transitionChanges(after, before, config).upserts.map((t) => [t.to, t.at])).toEqual([
      ['mql', msAt(2)],
      ['sql', msAt(2)],
    ]);
  });

  it('given every event delivered twice, when folded, then the state is the same as delivered once', () => {
    const events = month(eventsFor({ leadId: 'lead-1' }));
    const once = foldLead(lead, events, config);
    expect(observed(foldLead(lead, [...events, ...events], config))).toEqual(observed(once));
    expect(observed(foldLead(lead, events.flatMap((e) => [e, e]), config))).toEqual(observed(once));
    expect(evolve(once, events[3]!, config)).toBe(once);
  });

  it('given any arrival order with any redeliveries, when folded, then the state equals the in-order fold', () => {
    const events = month(eventsFor({ leadId: 'lead-1' }));
    const expected = observed(foldLead(lead, events, config));
    fc.assert(
      fc.property(fc.shuffledSubarray(events, { minLength: events.length }), fc.array(fc.nat(events.length - 1), { maxLength: 10 }), (shuffled, again) => {
        const arrived = foldLead(lead, [...shuffled, ...again.map((i) => events[i]!)], config);
        expect(observed(arrived)).toEqual(expected);
      }),
      { numRuns: 200, seed: 20260302 },
    );
  });

  it('given an as-of before the last event, when a snapshot is taken, then it is the lead as it was then', () => {
    const events = month(eventsFor({ leadId: 'lead-1' }));
    const all = foldLead(lead, events, config);
    const firstWeek = foldLead(lead, events.filter((e) => Date.parse(e.occurredAt) <= Date.parse(isoAt(7))), config);
    expect(leadStateAsOf(all, isoAt(7), config)).toEqual(leadStateAsOf(firstWeek, isoAt(7), config));
    expect(leadStateAsOf(all, isoAt(7), config)).toMatchObject({ stage: 'mql', sideState: { state: 'disqualified', reason: 'no_budget' } });
    expect(leadStateAsOf(all, isoAt(40), config)).toMatchObject({ stage: 'customer', sideState: undefined, owner: 'rep-1' });
  });

  it('given a state that was evolved further, when it is read or evolved again, then it still shows its own events only (states are values)', () => {
    const events = month(eventsFor({ leadId: 'lead-1' }));
    const firstWeek = events.filter((e) => Date.parse(e.occurredAt) <= Date.parse(isoAt(7)));
    const early = foldLead(lead, firstWeek, config);
    const earlyView = observed(early);
    const full = events.slice(firstWeek.length).reduce((s, e) => evolve(s, e, config), early);
    expect(observed(early)).toEqual(earlyView);
    // branch: the early state takes a different future
    const branch = evolve(early, eventsFor({ leadId: 'lead-1' }, 'branch')('sales_accepted', isoAt(8)), config);
    expect(leadStateAsOf(branch, isoAt(8), config)).toMatchObject({ stage: 'sql', sideState: undefined });
    expect(observed(full)).toEqual(observed(foldLead(lead, events, config)));
    expect(observed(early)).toEqual(earlyView);
  });

  it('given in-order steps, when transitions are compared, then only the new ones are reported', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const lead1 = foldLead(lead, [e('visit', isoAt(0)), e('form_submit', isoAt(1), { formId: 'f' })], config);
    const sql = evolve(lead1, e('demo_requested', isoAt(2)), config);
    expect(transitionChanges(lead1, sql, config)).toEqual({
      upserts: [
        expect.objectContaining({ from: 'lead', to: 'mql', skipped: true }),
        expect.objectContaining({ from: 'mql', to: 'sql', skipped: false, rule: 'sql.demo_request' }),
      ],
      removals: [],
    });
    expect(transitionChanges(sql, evolve(sql, e('visit', isoAt(3)), config), config)).toEqual({ upserts: [], removals: [] });
  });

  it('refuses to mix configs: a state built under one version cannot evolve under another', () => {
    const state = initialLeadState(lead, config);
    const other = ruleConfig({ version: 'test-2' });
    expect(() => evolve(state, eventsFor({ leadId: 'lead-1' })('visit', isoAt(0)), other)).toThrow(/built under config test-1, not test-2/);
  });
});
