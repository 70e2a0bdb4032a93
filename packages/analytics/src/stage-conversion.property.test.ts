import fc from 'fast-check';
import { SEGMENT_KEYS, stageConversion } from '@sluice/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { runStageConversion } from './stage-conversion.js';
import type { StageConversionQueryInput } from './stage-queries.js';
import { StageConversionQuerySchema, stageConversionSpecOf } from './stage-queries.js';
import { testBackends } from './test-backends.js';
import { DAY, STAGES, ZONES, filterArb, instantNear, leadsArb, placeLeads, profileView } from './test-stage-facts.js';

/*
 * ClickHouse stage conversion against the reference (@sluice/domain,
 * reference/stage-conversion.ts, whose cohorts come from luxon), by lead and
 * by account, on generated transition sets (test-stage-facts.ts: DST changes, period boundaries,
 * window edges, ties, churned ingestion).
 *
 * A fast-check run is one query over LEADS_PER_RUN leads written under a
 * config version of its own. A run costs four inserts and one query. The date
 * range and asOf start at, or 1 ms around, a lead's time.
 */

const RUNS = 150; // 150 runs x 60 leads x up to 3 pairs per backend

const runArb = fc.record({
  generated: leadsArb,
  pairs: fc.oneof(
    fc.constantFrom<StageConversionQueryInput['pairs']>('step_to_step', 'from_first'),
    fc.uniqueArray(fc.tuple(fc.nat(3), fc.nat(3)).filter(([a, b]) => a < b), { minLength: 1, maxLength: 3, selector: ([a, b]) => `${a}/${b}` }).map((ps) => ps.map(([a, b]) => ({ from: STAGES[a]!, to: STAGES[b]! }))),
  ),
  period: fc.constantFrom('day', 'week', 'month', 'quarter', 'year', 'all' as const),
  timeZone: fc.constantFrom(...ZONES),
  // the range starts at a lead's time (+-1 ms) or anywhere near the anchor
  rangeFrom: instantNear(-3 * DAY, 0),
  rangeDays: fc.constantFrom(400, 400, 1, 2, 3, 5),
  asOf: fc.option(instantNear(-DAY, 4 * DAY), { freq: 2 }),
  segment: fc.option(fc.constantFrom(...SEGMENT_KEYS)),
  filter: filterArb,
  segmentLimit: fc.constantFrom(1, 2, 3, 50, 50, 50),
  unit: fc.constantFrom('lead' as const, 'account' as const),
});
type Run = ReturnType<typeof runArb.generate>['value'];

let nextRun = 0;

/** The run's leads and its query. */
function place(run: Run) {
  const placed = placeLeads(run.generated, `conv-${nextRun++}`);
  const from = placed.pick(run.rangeFrom);
  const input: StageConversionQueryInput = {
    configVersion: placed.configVersion,
    stages: [...STAGES],
    pairs: run.pairs,
    period: run.period,
    timeZone: run.timeZone,
    dateRange: { from: new Date(from).toISOString(), to: new Date(from + run.rangeDays * DAY).toISOString() },
    ...(run.generated.window === null ? {} : { window: run.generated.window }),
    ...(run.asOf === null ? {} : { asOf: new Date(placed.pick(run.asOf)).toISOString() }),
    ...(run.segment === null ? {} : { segment: run.segment }),
    filters: run.filter === null ? [] : [run.filter],
    segmentLimit: run.segmentLimit,
    unit: run.unit,
  };
  return { placed, input };
}

/** The reference over the final facts, filters applied to the leads' profiles. */
function reference({ placed, input }: ReturnType<typeof place>) {
  const q = StageConversionQuerySchema.parse(input);
  const view = profileView(placed, q.filters, q.segment);
  return stageConversion(view.facts, stageConversionSpecOf(q), view.segmentOf, view.lifecycleOf);
}

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`stage conversion against the reference (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
    });
    afterAll(() => backend.close());

    it('generated transition sets around DST changes and year boundaries', async () => {
      const stats = { rows: 0, entered: 0, converted: 0, open: 0, skipped: 0, disqualified: 0, recycled: 0 };
      await fc.assert(
        fc.asyncProperty(runArb, async (run) => {
          const placed = place(run);
          await placed.placed.write(client);
          const result = await runStageConversion(client, placed.input);
          const want = reference(placed);
          expect(result.rows, JSON.stringify(placed.input)).toEqual(want);
          for (const r of want) {
            stats.entered += r.entered;
            stats.converted += r.converted;
            stats.open += r.open ?? 0;
            stats.skipped += r.skippedFrom;
            stats.disqualified += r.disqualified;
            stats.recycled += r.recycled;
          }
          stats.rows += want.length;
        }),
        { numRuns: RUNS },
      );
      // the runs exercised every part of the answer: thousands of lead-pair cases, conversions and not, open windows, skips
      console.log(`[stage conversion] ${RUNS} runs compared: ${JSON.stringify(stats)}`);
      expect(stats.entered).toBeGreaterThan(RUNS * 20);
      expect(Math.min(stats.converted, stats.entered - stats.converted, stats.open, stats.skipped, stats.disqualified, stats.recycled)).toBeGreaterThan(RUNS / 10);
    });
  });
}
