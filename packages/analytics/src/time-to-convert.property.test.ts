import fc from 'fast-check';
import type { TimeToConvertReport } from './queries/time-to-convert/reference.js';
import { SEGMENT_KEYS, touchpointsFromLog } from '@sluice/domain';
import { TREND_PERIODS, timeToConvert, touchpointTimeToConvert } from './queries/time-to-convert/reference.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { applyTouchpointBatch } from './sink.js';
import { testBackends } from './test-backends.js';
import type { LogLine } from './test-log.js';
import { recordedLog } from './test-log.js';
import { DAY, HOUR, STAGES, ZONES, filterArb, instantNear, leadsArb, placeLeads, profileView } from './test-stage-facts.js';
import type { StageTimeToConvertQuery, TimeToConvertQuery, TimeToConvertQueryInput, TimeToConvertResult, TouchpointTimeToConvertQuery } from './time-to-convert.js';
import { TimeToConvertQuerySchema, runTimeToConvert, timeToConvertSpecOf, touchpointTimeToConvertSpecOf } from './time-to-convert.js';

/*
 * ClickHouse time to convert against the reference
 * (queries/time-to-convert/reference.ts) on the generated transition sets the stage
 * conversion test uses (test-stage-facts.ts: DST changes, period boundaries,
 * gaps of exactly the window and +-1 ms, zero gaps and skips, a `to` before
 * its `from`, churned ingestion). Bucket edges are drawn from the gaps the
 * generator makes (the window, 1 h, 1 day) so durations land exactly on
 * edges; automatic buckets check the trimming. Most runs ask for a trend, in
 * a period and zone of their own, so entries around the anchors' period
 * boundaries fall either side of them. A run: four inserts, one query.
 *
 * Between touchpoint steps, on generated logs: a run is a day of its own (ids
 * carry the run), events on a half-hour clock so that durations fall exactly
 * on edges and window ends and events share milliseconds (the same
 * millisecond converts, the entry event itself does not); anonymous visitors
 * and linked histories as funnels count them; a step that is both `from` and
 * `to`. Trends there cut days in New York and Los Angeles inside a run's
 * hours (and months and weeks on a region that is the first of one). A run:
 * one insert, one query.
 */

const RUNS = 200;
const TOUCHPOINT_RUNS = 200;

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
  period: fc.option(fc.constantFrom(...TREND_PERIODS)),
  timeZone: fc.constantFrom(...ZONES),
});
type Run = ReturnType<typeof runArb.generate>['value'];

let nextRun = 0;

interface Stats {
  entered: number;
  converted: number;
  zero: number;
  lastBucket: number;
  trimmed: number;
  /** trends with more than one period */
  trends: number;
}
const newStats = (): Stats => ({ entered: 0, converted: 0, zero: 0, lastBucket: 0, trimmed: 0, trends: 0 });

/** ClickHouse's answer equals the reference's, segments counted before the limit; tallies what the run exercised. */
function expectReference(got: TimeToConvertResult, want: TimeToConvertReport, unlimited: TimeToConvertReport, q: TimeToConvertQuery, stats: Stats) {
  const where = JSON.stringify(q);
  expect({ buckets: got.buckets, rows: got.rows }, where).toEqual(want);
  // a segment has a row per period it had entries in
  const segments = new Set(unlimited.rows.map((r) => r.segment)).size;
  expect({ segments: got.segments, truncated: got.truncated }, where).toEqual({ segments, truncated: segments > q.segmentLimit });
  for (const r of want.rows) {
    stats.entered += r.entered;
    stats.converted += r.converted;
    if (r.medianMs === 0) stats.zero++;
    stats.lastBucket += want.buckets.at(-1)?.toMs === null ? (r.histogram.at(-1) ?? 0) : 0;
  }
  if (q.buckets === 'auto' && want.buckets.length > 0 && want.buckets.length < 16) stats.trimmed++;
  if (new Set(want.rows.map((r) => r.period)).size > 1) stats.trends++;
}

/** The runs exercised every part of the answer: conversions and not, zero durations, the open-ended bucket, trimmed ladders. */
function expectCoverage(name: string, runs: number, stats: Stats) {
  console.log(`[${name}] ${runs} runs compared: ${JSON.stringify(stats)}`);
  expect(stats.entered).toBeGreaterThan(runs * 5);
  // each kind of case was compared at least once; how often varies a lot with fast-check's bias from run to run
  // (the open last bucket: 9 to 125 per 200 runs), so a share would fail by chance, not because the code changed
  expect(Math.min(stats.converted, stats.entered - stats.converted, stats.zero, stats.lastBucket, stats.trimmed)).toBeGreaterThan(0);
  // about one touchpoint run in fifteen has entries either side of a day's start; more than one in a hundred leaves no doubt the trend was compared
  expect(stats.trends).toBeGreaterThan(runs / 100);
}

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
    ...(run.period === null ? {} : { period: run.period }),
    timeZone: run.timeZone,
  };
  return { placed, input };
}

const TICK = HOUR / 2;
const TOUCHPOINT_ACTORS = 40;
const REGION_MS = DAY;
const BASE_MS = Date.UTC(2026, 5, 1);

const touchArb = fc.record({
  tick: fc.integer({ min: 0, max: 20 }),
  type: fc.constantFrom('visit', 'visit', 'form_submit', 'form_submit', 'page_view'),
  source: fc.constantFrom('google', 'bing', undefined),
  pageType: fc.constantFrom('pricing', 'blog', undefined),
  anonymously: fc.constantFrom(false, false, true),
  // whether the event names its actor's account (one that does not goes where the actor's last named account is, when pooled)
  namesAccount: fc.boolean(),
});

const touchpointRunArb = fc.record({
  actors: fc.array(fc.record({ kind: fc.constantFrom('lead', 'lead', 'anonymous', 'linked'), account: fc.constantFrom(undefined, undefined, 'A1', 'A2', 'A3', 'A4'), touches: fc.array(touchArb, { minLength: 1, maxLength: 6 }) }), {
    minLength: TOUCHPOINT_ACTORS,
    maxLength: TOUCHPOINT_ACTORS,
  }),
  steps: fc.constantFrom<{ from: TimeToConvertQueryInput['from']; to: TimeToConvertQueryInput['to'] }>(
    { from: { type: 'visit' }, to: { type: 'form_submit' } },
    { from: { type: 'visit', where: [{ key: 'source', op: 'eq', value: 'google' }] }, to: { type: 'form_submit' } },
    { from: { type: 'page_view', where: [{ key: 'properties.pageType', op: 'in', values: ['pricing'] }] }, to: { type: 'form_submit' } },
    { from: { type: 'visit' }, to: { type: 'visit' } },
  ),
  rangeFrom: fc.record({ tick: fc.integer({ min: 0, max: 6 }), shift: fc.constantFrom(-1, 0, 1) }),
  rangeTicks: fc.integer({ min: 2, max: 20 }),
  window: fc.option(fc.record({ value: fc.integer({ min: 0, max: 3 }), unit: fc.constant('hours' as const) })),
  asOf: fc.option(fc.record({ tick: fc.integer({ min: 0, max: 20 }), shift: fc.constantFrom(-1, 0, 1) }), { freq: 3 }),
  buckets: fc.constantFrom<TimeToConvertQueryInput['buckets']>('auto', [{ value: 30, unit: 'minutes' }, { value: 1, unit: 'hours' }, { value: 2, unit: 'hours' }], [{ value: 90, unit: 'minutes' }]),
  breakdown: fc.constantFrom(undefined, 'source', 'properties.pageType'),
  unit: fc.constantFrom(undefined, undefined, 'accounts_pooled' as const),
  segmentLimit: fc.constantFrom(1, 2, 50),
  // mostly days: a region's events run from 00:00 to 10:00 UTC, and midnight in New York (04:00) and Los Angeles (07:00) falls inside
  period: fc.option(fc.constantFrom('day' as const, 'day' as const, 'day' as const, ...TREND_PERIODS)),
  timeZone: fc.constantFrom(...ZONES, 'America/Los_Angeles'),
});
type TouchpointRun = ReturnType<typeof touchpointRunArb.generate>['value'];

let nextRegion = 0;
let nextPosition = 1;

function placeTouchpoints(run: TouchpointRun) {
  const region = nextRegion++;
  const at = (tick: number) => BASE_MS + region * REGION_MS + tick * TICK;
  const lines: LogLine[] = [];
  run.actors.forEach((a, i) => {
    const lead = `t${region}L${i}`;
    const anon = `t${region}b${i}`;
    for (const t of a.touches) {
      // a linked lead's anonymous events belong to it once any event names both
      const who = a.kind === 'anonymous' ? { anon } : a.kind === 'linked' && t.anonymously ? { anon } : a.kind === 'linked' ? { lead, anon } : { lead };
      lines.push({
        type: t.type,
        at: at(t.tick),
        ...who,
        ...(t.source === undefined ? {} : { source: t.source }),
        ...(a.account === undefined || !t.namesAccount ? {} : { accountId: `t${region}${a.account}` }),
        properties: t.pageType === undefined ? {} : { pageType: t.pageType },
      });
    }
  });
  const log = recordedLog(lines, nextPosition, `t${region}-`);
  nextPosition += log.length;
  const from = at(run.rangeFrom.tick) + run.rangeFrom.shift;
  const input: TimeToConvertQueryInput = {
    from: run.steps.from,
    to: run.steps.to,
    dateRange: { from: new Date(from).toISOString(), to: new Date(from + run.rangeTicks * TICK).toISOString() },
    ...(run.window === null ? {} : { window: run.window }),
    ...(run.asOf === null ? {} : { asOf: new Date(at(run.asOf.tick) + run.asOf.shift).toISOString() }),
    buckets: run.buckets,
    ...(run.breakdown === undefined ? {} : { breakdown: run.breakdown }),
    ...(run.unit === undefined ? {} : { unit: run.unit }),
    segmentLimit: run.segmentLimit,
    ...(run.period === null ? {} : { period: run.period }),
    timeZone: run.timeZone,
  };
  return { log, input };
}

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`time to convert against the reference (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
    });
    afterAll(() => backend.close());

    it('generated transition sets: durations on bucket edges and window ends, skips, DST', async () => {
      const stats = newStats();
      await fc.assert(
        fc.asyncProperty(runArb, async (run) => {
          const { placed, input } = place(run);
          await placed.write(client);
          const q = TimeToConvertQuerySchema.parse(input) as StageTimeToConvertQuery;
          const view = profileView(placed, q.filters, q.segment);
          const want = timeToConvert(view.facts, timeToConvertSpecOf(q), view.segmentOf);
          const unlimited = timeToConvert(view.facts, { ...timeToConvertSpecOf(q), segmentLimit: undefined }, view.segmentOf);
          expectReference(await runTimeToConvert(client, input), want, unlimited, q, stats);
        }),
        { numRuns: RUNS },
      );
      expectCoverage('time to convert between stages', RUNS, stats);
    });

    it('generated logs between touchpoint steps: ties, edges, windows, linked histories, pooled accounts', async () => {
      const stats = newStats();
      await fc.assert(
        fc.asyncProperty(touchpointRunArb, async (run) => {
          const { log, input } = placeTouchpoints(run);
          await applyTouchpointBatch(client, log);
          const q = TimeToConvertQuerySchema.parse(input) as TouchpointTimeToConvertQuery;
          const touchpoints = touchpointsFromLog(log);
          const want = touchpointTimeToConvert(touchpoints, touchpointTimeToConvertSpecOf(q));
          const unlimited = touchpointTimeToConvert(touchpoints, { ...touchpointTimeToConvertSpecOf(q), segmentLimit: undefined });
          expectReference(await runTimeToConvert(client, input), want, unlimited, q, stats);
        }),
        { numRuns: TOUCHPOINT_RUNS },
      );
      expectCoverage('time to convert between touchpoint steps', TOUCHPOINT_RUNS, stats);
    });
  });
}
