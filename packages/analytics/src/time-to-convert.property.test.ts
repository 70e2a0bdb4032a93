import fc from 'fast-check';
import { SEGMENT_KEYS, timeToConvert } from '@sluice/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { testBackends } from './test-backends.js';
import { DAY, STAGES, filterArb, instantNear, leadsArb, placeLeads, profileView } from './test-stage-facts.js';
import type { TimeToConvertQueryInput } from './time-to-convert.js';
import { TimeToConvertQuerySchema, runTimeToConvert, timeToConvertSpecOf } from './time-to-convert.js';

/*
 * ClickHouse time to convert against the reference (@sluice/domain,
 * reference/time-to-convert.ts) on the generated transition sets the stage
 * conversion test uses (test-stage-facts.ts: DST changes, period boundaries,
 * gaps of exactly the window and +-1 ms, zero gaps and skips, a `to` before
 * its `from`, churned ingestion). Bucket edges are drawn from the gaps the
 * generator makes (the window, 1 h, 1 day) so durations land exactly on
 * edges; automatic buckets check the trimming. A run: four inserts, one query.
 */

const RUNS = 200;

const minutesOf = (e: { value: number; unit: 'minutes' | 'hours' | 'days' }) => e.value * (e.unit === 'minutes' ? 1 : e.unit === 'hours' ? 60 : 1440);
const edgeArb = fc.record({ value: fc.integer({ min: 1, max: 4 }), unit: fc.constantFrom('minutes' as const, 'hours' as const, 'days' as const) });

const runArb = fc.record({
  generated: leadsArb,
  // mostly forward pairs; a backward one has every `to` before its `from` (nothing converts but 0 ms ties)
  pair: fc.oneof({ arbitrary: fc.tuple(fc.nat(3), fc.nat(3)).filter(([a, b]) => a < b), weight: 4 }, { arbitrary: fc.tuple(fc.nat(3), fc.nat(3)).filter(([a, b]) => a > b), weight: 1 }),
  rangeFrom: instantNear(-3 * DAY, 0),
  rangeDays: fc.constantFrom(400, 400, 1, 2, 3),
  asOf: fc.option(instantNear(-DAY, 4 * DAY), { freq: 3 }),
  buckets: fc.oneof(
    fc.constant<'auto'>('auto'),
    fc.uniqueArray(edgeArb, { minLength: 1, maxLength: 6, selector: minutesOf }),
  ),
  segment: fc.option(fc.constantFrom(...SEGMENT_KEYS)),
  filter: filterArb,
  segmentLimit: fc.constantFrom(1, 2, 50, 50),
});
type Run = ReturnType<typeof runArb.generate>['value'];

let nextRun = 0;

function place(run: Run) {
  const placed = placeLeads(run.generated, `ttc-${nextRun++}`);
  const from = placed.pick(run.rangeFrom);
  const input: TimeToConvertQueryInput = {
    configVersion: placed.configVersion,
    from: STAGES[run.pair[0]]!,
    to: STAGES[run.pair[1]]!,
    dateRange: { from: new Date(from).toISOString(), to: new Date(from + run.rangeDays * DAY).toISOString() },
    ...(run.generated.window === null ? {} : { window: run.generated.window }),
    ...(run.asOf === null ? {} : { asOf: new Date(placed.pick(run.asOf)).toISOString() }),
    buckets: run.buckets === 'auto' ? 'auto' : [...run.buckets].sort((a, b) => minutesOf(a) - minutesOf(b)),
    ...(run.segment === null ? {} : { segment: run.segment }),
    filters: run.filter === null ? [] : [run.filter],
    segmentLimit: run.segmentLimit,
  };
  return { placed, input };
}

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`time to convert against the reference (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
    });
    afterAll(() => backend.close());

    it('generated transition sets: durations on bucket edges and window ends, skips, DST', async () => {
      const stats = { entered: 0, converted: 0, zero: 0, lastBucket: 0, trimmed: 0 };
      await fc.assert(
        fc.asyncProperty(runArb, async (run) => {
          const { placed, input } = place(run);
          await placed.write(client);
          const q = TimeToConvertQuerySchema.parse(input);
          const view = profileView(placed, q.filters, q.segment);
          const want = timeToConvert(view.facts, timeToConvertSpecOf(q), view.segmentOf);
          const got = await runTimeToConvert(client, input);
          const where = JSON.stringify(input);
          expect({ buckets: got.buckets, rows: got.rows }, where).toEqual(want);
          const all = timeToConvert(view.facts, { ...timeToConvertSpecOf(q), segmentLimit: undefined }, view.segmentOf);
          expect(got.segments, where).toBe(all.rows.length);
          expect(got.truncated, where).toBe(all.rows.length > q.segmentLimit);
          for (const r of want.rows) {
            stats.entered += r.entered;
            stats.converted += r.converted;
            if (r.medianMs === 0) stats.zero++;
            stats.lastBucket += want.buckets.at(-1)?.toMs === null ? (r.histogram.at(-1) ?? 0) : 0;
          }
          if (q.buckets === 'auto' && want.buckets.length > 0 && want.buckets.length < 16) stats.trimmed++;
        }),
        { numRuns: RUNS },
      );
      // the runs exercised every part of the answer: conversions and not, zero durations, the open-ended bucket, trimmed ladders
      console.log(`[time to convert] ${RUNS} runs compared: ${JSON.stringify(stats)}`);
      expect(stats.entered).toBeGreaterThan(RUNS * 5);
      expect(Math.min(stats.converted, stats.entered - stats.converted, stats.zero, stats.lastBucket, stats.trimmed)).toBeGreaterThan(RUNS / 20);
    });
  });
}
