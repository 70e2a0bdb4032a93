import type { EventStore } from '@sluice/event-store';
import type { SluiceEvent } from '@sluice/schemas';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlaNotConfiguredError, openProjectionStore, rebuild, slaReport } from './index.js';
import type { ProjectionStore } from './store/projection-store.js';
import { type TempDir, appendAll, demoRules, eventsFor, isoAt, openEventStore, tempDir } from './test-support.js';

// MQL on attending a webinar, so each lead's clock starts when the test says
const rules = demoRules('sla-1', {
  stageModel: { builtin: 'classic_b2b', entry: { mql: [{ id: 'mql.webinar', when: { event: 'webinar_attended' } }] } },
  sla: { firstTouchWithinMinutes: 240, attempts: { atLeast: 3, withinDays: 7 }, mqlsPerMonth: { smb: 3, enterprise: 2 } },
});
const outbound = { direction: 'outbound', outcome: 'no_answer', durationSeconds: 0 };

/** A lead who attends a webinar `mqlAt` minutes after isoAt(0), owned by `owner`, with outbound calls at the given minutes after the MQL. */
function lead(id: string, owner: string, unit: string, mqlAt: number, callsAfter: readonly number[], accepted = false): SluiceEvent[] {
  const e = eventsFor({ leadId: id }, id);
  return [
    e('identify', isoAt(0, mqlAt - 10), { businessUnit: unit }),
    e('owner_assigned', isoAt(0, mqlAt - 5), { ownerId: owner }),
    e('webinar_attended', isoAt(0, mqlAt), { webinarId: 'w1' }),
    ...callsAfter.map((m) => e('call', isoAt(0, mqlAt + m), outbound)),
    ...(accepted ? [e('sales_accepted', isoAt(0, mqlAt + callsAfter[callsAfter.length - 1]! + 1))] : []),
  ];
}

describe('SLA report', () => {
  let tmp: TempDir;
  let store: EventStore;
  let projections: ProjectionStore;

  beforeEach(async () => {
    tmp = tempDir();
    store = await openEventStore(tmp.path('events.sqlite'));
    projections = openProjectionStore(tmp.path('projections.sqlite'));
    // A: first call exactly at the 240-minute boundary, three attempts, accepted. B: never contacted.
    // C: first call one minute late, one attempt. D: MQL an hour before asOf, nothing yet.
    await appendAll(store, [
      ...lead('A', 'rep-1', 'smb', 0, [240, 600, 1500], true),
      ...lead('B', 'rep-2', 'smb', 30, []),
      ...lead('C', 'rep-1', 'enterprise', 60, [241]),
      ...lead('D', 'rep-2', 'smb', 10 * 1440 - 60, []),
    ]);
    await rebuild({ store, projections, config: rules });
  });
  afterEach(async () => {
    projections.close();
    await store.close();
    tmp.remove();
  });

  const report = () => slaReport(projections, rules, { fromMs: Date.parse('2026-03-01T00:00:00+01:00'), toMs: Date.parse('2026-04-01T00:00:00+02:00'), asOfMs: Date.parse(isoAt(10)) });

  it('given a contact exactly at the target, one a minute late and one never made, then the first is met and the others are breaches, listed', () => {
    const r = report();
    expect(r.targets).toEqual({ startStage: 'mql', nextStage: 'sql', firstTouchWithinMinutes: 240, attempts: { atLeast: 3, withinDays: 7 }, mqlsPerMonth: { smb: 3, enterprise: 2 } });
    expect(r.sales.total).toEqual({
      key: 'all',
      leads: 4,
      contacted: 2,
      firstTouch: { met: 1, breached: 2, pending: 1 },
      attempts: { met: 1, breached: 2, pending: 1 },
      breachedLeads: 2,
      medianMinutes: 240.5,
      p90Minutes: 240.9,
    });
    expect(r.breaches.leads.map((b) => [b.leadId, b.owner, b.firstTouchAt === null ? null : b.minutesToFirstTouch, b.attempts, b.breaches])).toEqual([
      ['B', 'rep-2', null, 0, ['first_touch', 'attempts']],
      ['C', 'rep-1', 241, 1, ['first_touch', 'attempts']],
    ]);
    expect(r.breaches.leads[0]).toMatchObject({ firstTouchDueAt: isoAt(0, 30 + 240), firstTouchAt: null, businessUnit: 'smb' });
  });

  it('given the owners and units, then each row counts its own leads', () => {
    const r = report();
    expect(r.sales.byOwner.map((g) => [g.key, g.leads, g.firstTouch.met, g.firstTouch.breached, g.firstTouch.pending, g.breachedLeads])).toEqual([
      ['rep-1', 2, 1, 1, 0, 1],
      ['rep-2', 2, 0, 1, 1, 1],
    ]);
    expect(r.sales.byBusinessUnit.map((g) => [g.key, g.leads, g.breachedLeads])).toEqual([
      ['enterprise', 1, 1],
      ['smb', 3, 1],
    ]);
  });

  it('given the commitment per unit, then marketing met it where enough MQLs arrived in the month', () => {
    expect(report().marketing).toEqual([
      { businessUnit: 'smb', delivered: 3, committed: 3, met: true },
      { businessUnit: 'enterprise', delivered: 1, committed: 2, met: false },
      { businessUnit: 'partners', delivered: 0, committed: null, met: null },
    ]);
  });

  it('given the first 15.5 days of March in Berlin, then that share of the month is due (a month of 743 hours: clocks go forward on the 29th)', () => {
    const r = slaReport(projections, rules, { fromMs: Date.parse('2026-03-01T00:00:00+01:00'), toMs: Date.parse('2026-03-16T12:00:00+01:00'), asOfMs: Date.parse(isoAt(10)) });
    expect(r.marketing.find((m) => m.businessUnit === 'enterprise')?.committed).toBeCloseTo((2 * (15.5 * 24)) / 743, 12);
  });

  it('puts speed to lead and persistence beside conversion: the lead called at 4 h with three attempts became an SQL', () => {
    const r = report();
    expect(r.speedToLead.map((b) => [b.label, b.leads, b.converted, b.rate])).toEqual([
      ['0-5m', 0, 0, null],
      ['5m-1h', 0, 0, null],
      ['1h-4h', 0, 0, null],
      ['4h-1d', 2, 1, 0.5],
      ['1d-7d', 0, 0, null],
      ['>= 7d', 0, 0, null],
      ['never', 2, 0, 0],
    ]);
    expect(r.persistence?.map((b) => [b.label, b.leads, b.converted])).toEqual([
      ['0', 2, 0],
      ['1', 1, 0],
      ['2', 0, 0],
      ['>= 3', 1, 1],
    ]);
  });

  it('refuses rules that set no SLA', () => {
    expect(() => slaReport(projections, { ...rules, sla: undefined }, { fromMs: 0, toMs: 1, asOfMs: 1 })).toThrow(SlaNotConfiguredError);
  });
});
