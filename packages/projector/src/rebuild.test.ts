import type { EventStore } from '@sluice/event-store';
import { COHORT_PERIODS, type CohortPeriod, type StageFact, stageConversion } from '@sluice/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProjectionStore, type ReplayProgress, contentHash, liveConversion, openProjectionStore, rebuild, startProjector } from './index.js';
import { type TempDir, appendAll, demoEvents, demoRules, openEventStore, tempDir } from './test-support.js';

const rules = demoRules();

/** The domain's reference answer over the stage transitions the projector wrote, segmented by business unit. */
function referenceConversion(projections: ProjectionStore, period: CohortPeriod) {
  const transitions = projections.db
    .prepare('SELECT t.subject, t.to_stage, t.at, t.skipped, l.business_unit FROM stage_transitions t JOIN leads l ON l.subject = t.subject')
    .all() as { subject: string; to_stage: string; at: number; skipped: number; business_unit: string }[];
  const units = new Map(transitions.map((t) => [t.subject, t.business_unit]));
  const facts: StageFact[] = transitions.map((t) => ({ leadId: t.subject, stage: t.to_stage, enteredAtMs: t.at, skipped: t.skipped === 1 }));
  const stages = rules.stageModel.stages.map((s) => s.id);
  const pairs = stages.flatMap((from, i) => stages.slice(i + 1).map((to) => ({ from, to })));
  const rows = stageConversion(facts, { pairs, period, timeZone: rules.timeZone, fromMs: 0, toMs: Date.parse('2100-01-01T00:00:00Z') }, (subject) => units.get(subject)!);
  // the live counters keep no side states (disqualified, recycled): ClickHouse's stage conversion reports those
  return rows.map(({ open: _o, meanMs, medianMs: _m, p90Ms: _p, disqualified: _d, recycled: _r, segment, ...r }) => ({ ...r, businessUnit: segment, avgMs: meanMs }));
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

  it.each(COHORT_PERIODS)('given demo data, when the live conversion is read per %s, then it is the domain reference over the written transitions', async (period) => {
    const projections = openProjectionStore(tmp.path(`conversion-${period}.sqlite`));
    // a small cache and frequent flushes: the counters go through many incremental updates
    await rebuild({ store, projections, config: rules, batchSize: 500, flushEvery: 1000, cacheSize: 200 });
    const expected = referenceConversion(projections, period);
    expect(expected.length).toBeGreaterThan(10);
    const live = liveConversion(projections, { period, groupBy: ['businessUnit'] }).rows;
    expect(live.map(({ avgMs: _a, ...r }) => r)).toEqual(expected.map(({ avgMs: _a, ...r }) => r));
    live.forEach((r, i) => (r.avgMs === null ? expect(expected[i]!.avgMs).toBeNull() : expect(r.avgMs).toBeCloseTo(expected[i]!.avgMs!, 3)));
    projections.close();
  });
});
