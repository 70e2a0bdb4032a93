import type { EventStore } from '@sluice/event-store';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CohortPeriod, type ProjectionStore, type ReplayProgress, contentHash, liveConversion, openProjectionStore, rebuild, startProjector } from './index.js';
import { type TempDir, appendAll, demoEvents, demoRules, openEventStore, tempDir } from './test-support.js';

const rules = demoRules();

/**
 * The live conversion recomputed from the lead rows alone, with luxon doing
 * the calendar: for each actor and stage entered, the cohort period of the
 * entry in the business zone; counts of later stages reached and time taken.
 */
function conversionFromLeadRows(projections: ProjectionStore, period: CohortPeriod): Map<string, { leads: number; velocityMs: number }> {
  const rows = projections.db.prepare('SELECT stages, business_unit, source FROM leads WHERE merged_into IS NULL').all() as { stages: string; business_unit: string; source: string | null }[];
  const out = new Map<string, { leads: number; velocityMs: number }>();
  const periodOf = (at: number) => {
    const local = DateTime.fromMillis(at, { zone: rules.timeZone });
    return (period === 'day' ? local.startOf('day') : period === 'week' ? local.startOf('week') : local.startOf('month')).toISODate()!;
  };
  for (const r of rows) {
    const stages = JSON.parse(r.stages) as { stage: string; at: number }[];
    stages.forEach((from, i) => {
      for (const to of stages.slice(i)) {
        const key = [periodOf(from.at), r.business_unit, r.source ?? '', from.stage, to.stage].join('|');
        const c = out.get(key) ?? { leads: 0, velocityMs: 0 };
        out.set(key, { leads: c.leads + 1, velocityMs: c.velocityMs + (to.at - from.at) });
      }
    });
  }
  return out;
}

function conversionFromQuery(projections: ProjectionStore, period: CohortPeriod): Map<string, { leads: number; velocityMs: number }> {
  const out = new Map<string, { leads: number; velocityMs: number }>();
  for (const cohort of liveConversion(projections, { period, groupBy: ['businessUnit', 'source'] }).cohorts) {
    for (const s of cohort.stages) {
      const key = (to: string) => [cohort.period, cohort.businessUnit, cohort.source, s.stage, to].join('|');
      if (s.entered > 0) out.set(key(s.stage), { leads: s.entered, velocityMs: 0 });
      for (const r of s.reached) if (r.leads > 0) out.set(key(r.stage), { leads: r.leads, velocityMs: Math.round(r.avgMs! * r.leads) });
    }
  }
  return out;
}

describe('rebuild', () => {
  let tmp: TempDir;
  let store: EventStore;
  beforeAll(async () => {
    tmp = tempDir();
    store = await openEventStore(tmp.path('events.sqlite'));
    await appendAll(store, demoEvents(20_000, 4));
  });
  afterAll(async () => {
    await store.close();
    tmp.remove();
  });

  it('given one log, when the read models are rebuilt twice (and by the live projector), then their content hashes are equal', async () => {
    const progress: ReplayProgress[] = [];
    const first = openProjectionStore(tmp.path('first.sqlite'));
    const result = await rebuild({ store, projections: first, config: rules, batchSize: 1000, onProgress: (p) => progress.push(p) });
    const head = await store.headPosition();
    expect(result).toMatchObject({ position: head, events: head });
    expect(progress.length).toBeGreaterThanOrEqual(head / 1000);
    expect(progress.at(-1)).toEqual({ position: head, until: head, events: head });
    expect(first.state().position).toBe(head);

    const hash = contentHash(first);
    await rebuild({ store, projections: first, config: rules, batchSize: 333, cacheSize: 100 });
    expect(contentHash(first)).toBe(hash);

    const live = openProjectionStore(tmp.path('live.sqlite'));
    const projector = startProjector({ store, projections: live, config: rules, batchSize: 700, flushEvery: 2000 });
    await projector.caughtUp();
    await projector.stop();
    expect(contentHash(live)).toBe(hash);
    first.close();
    live.close();
  });

  it.each(['day', 'week', 'month'] as const)('given demo data, when the live conversion is read per %s, then it equals the count recomputed from the lead rows', async (period) => {
    const projections = openProjectionStore(tmp.path(`conversion-${period}.sqlite`));
    // a small cache and frequent flushes: the counters go through many incremental updates
    await rebuild({ store, projections, config: rules, batchSize: 500, flushEvery: 1000, cacheSize: 200 });
    const expected = conversionFromLeadRows(projections, period);
    expect(expected.size).toBeGreaterThan(20);
    expect(conversionFromQuery(projections, period)).toEqual(expected);
    projections.close();
  });
});
