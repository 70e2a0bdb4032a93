import { COHORT_PERIODS, DAY_MS, MINUTE_MS, cohortPeriodOf, keepLargestSegments, quantileInclusive } from '@sluice/domain';
import type { CohortPeriod, ConversionWindow, FunnelTouchpoint, StageFact } from '@sluice/domain';
import type { FunnelMatcher } from '../funnel/reference.js';
import { matchesFunnelMatcher, pooledHistoryOf, valueOfKey } from '../funnel/reference.js';

/**
 * Reference implementation of time to convert between two stages: plain
 * TypeScript over the stage facts of ONE rule configuration (see
 * stage-conversion.ts for what a fact is). `@sluice/analytics` computes the
 * same in ClickHouse and property tests hold the two to the same answers.
 *
 * Semantics
 * - Who: the leads that ENTERED `from` in [fromMs, toMs) (after filters, which
 *   the caller applies): `entered`.
 * - Converted: as in stage conversion: a `to` fact at or after the `from`
 *   time, and with a window at most `windowMs` later (inclusive). A skipped
 *   stage counts as passed through (its fact carries the time of the jump),
 *   so a lead that skipped `from` or `to` converts in 0 ms when it jumped over
 *   both at once. asOf: facts after it are ignored.
 * - The duration is `to` time minus `from` time in ms (fixed lengths, no
 *   calendar). Over the converted leads: count, mean (sum / count), median and
 *   p90 (R-7, {@link quantileInclusive}, like ClickHouse's
 *   quantileExactInclusive); null when none converted.
 * - Histogram: edges e1 < e2 < ... < ek (ms, positive) make k + 1 buckets
 *   [0, e1), [e1, e2), ..., [ek, infinity): a duration exactly on an edge falls
 *   in the bucket that starts there. Automatic edges are the fixed ladder
 *   {@link AUTO_HISTOGRAM_EDGES_MS} (1m, 5m, 15m, 1h, 6h, 1d, 2d, 7d, 14d,
 *   30d, 60d, 90d, 180d, 365d, 730d), with the buckets that are empty in
 *   every segment before the first and after the last non-empty one left out
 *   (so every segment shares the same buckets, and the edges never depend on
 *   the data beyond that trimming; with no conversions at all, no buckets).
 * - Segment: one distribution per segment value (as in stage conversion; ''
 *   without a profile); with a segment limit the segments with the most
 *   entries are kept (ties by value). Rows: one per segment with entries,
 *   sorted by segment.
 * - Trend (with a `period`): the same per (period, segment), the period being
 *   that in which the entry into `from` happened, cut in the business time
 *   zone exactly as stage conversion cuts cohorts ({@link cohortPeriodOf}:
 *   day, ISO week, month, quarter, year). A conversion belongs to the period
 *   of its entry however late it comes. Rows carry `period` (the first day)
 *   and `periodLabel`, sorted by period, then segment; the segment limit
 *   ranks segments by their entries over all periods; automatic buckets are
 *   trimmed over all rows, so every period shares them. Without a period the
 *   rows carry neither field.
 *
 * Between two touchpoint steps ({@link touchpointTimeToConvert}) instead of
 * stages: actors as funnels count them (a lead with the anonymous history it
 * owns, or an unclaimed visitor); a step is an event type with the funnel's
 * conditions. An actor enters with its FIRST `from` event in [fromMs, toMs)
 * (by time, ties by log position); it converts with the first `to` event at
 * or after that event's millisecond (any position: the same millisecond
 * counts), other than the `from` event itself, within the window (inclusive).
 * asOf: events after it are ignored. The segment is the value of the
 * breakdown key on the `from` event ('' when missing). Statistics, histogram
 * and segment limit as above. unit `accounts_pooled`: the account is the
 * actor, its people's events pooled as the funnel pools them (see
 * pooledHistoryOf; an actor's account read from the events up to asOf), so
 * one contact's form and another's payment are one account's conversion.
 */

export interface TimeToConvertSpec extends ConversionWindow {
  from: string;
  to: string;
  /** Histogram edges, ascending, positive; 'auto': the ladder, trimmed (see the semantics). */
  edgesMs: readonly number[] | 'auto';
  segmentLimit?: number | undefined;
  /** Rows per period of entering `from` as well (see the semantics); undefined: one row per segment. */
  period?: TrendPeriod | undefined;
  /** IANA zone the periods are cut in; undefined: UTC. */
  timeZone?: string | undefined;
}

/** The periods a trend is cut in: stage conversion's cohort periods but `all` (which is the report without a period). */
export const TREND_PERIODS = COHORT_PERIODS.filter((p): p is Exclude<CohortPeriod, 'all'> => p !== 'all');
export type TrendPeriod = Exclude<CohortPeriod, 'all'>;

export interface HistogramBucket {
  fromMs: number;
  /** Exclusive; null for the open-ended last bucket. */
  toMs: number | null;
  /** e.g. `1h-1d`, `>=730d`. */
  label: string;
}

export interface TimeToConvertRow {
  /** With a period only: its first day in the business zone, YYYY-MM-DD. */
  period?: string;
  /** With a period only: 2026-03-02, 2026-W10, 2026-03, 2026-Q1 or 2026. */
  periodLabel?: string;
  segment: string;
  /** Leads that entered `from` in the range. */
  entered: number;
  /** Of those, how many reached `to` (within the window): the count the statistics are over. */
  converted: number;
  meanMs: number | null;
  medianMs: number | null;
  p90Ms: number | null;
  /** Converted leads per bucket, in the order of the report's buckets. */
  histogram: number[];
}

export interface TimeToConvertReport {
  buckets: HistogramBucket[];
  rows: TimeToConvertRow[];
}

const HOUR_MS = 60 * MINUTE_MS;

/** The automatic histogram's edges: human-readable steps from a minute to two years. */
export const AUTO_HISTOGRAM_EDGES_MS: readonly number[] = [
  MINUTE_MS,
  5 * MINUTE_MS,
  15 * MINUTE_MS,
  HOUR_MS,
  6 * HOUR_MS,
  DAY_MS,
  2 * DAY_MS,
  7 * DAY_MS,
  14 * DAY_MS,
  30 * DAY_MS,
  60 * DAY_MS,
  90 * DAY_MS,
  180 * DAY_MS,
  365 * DAY_MS,
  730 * DAY_MS,
];

/** The edges a spec counts with (before any trimming). */
export const histogramEdgesOf = (edgesMs: TimeToConvertSpec['edgesMs']): readonly number[] => (edgesMs === 'auto' ? AUTO_HISTOGRAM_EDGES_MS : edgesMs);

/** The bucket a duration falls in: the number of edges at or below it. */
export const histogramBucketOf = (edgesMs: readonly number[], durationMs: number): number => edgesMs.filter((e) => e <= durationMs).length;

const UNITS = [
  { ms: DAY_MS, suffix: 'd' },
  { ms: HOUR_MS, suffix: 'h' },
  { ms: MINUTE_MS, suffix: 'm' },
  { ms: 1000, suffix: 's' },
] as const;

/** A duration in the largest unit that divides it: 7d, 90m, 1500ms. */
export function durationLabel(ms: number): string {
  if (ms === 0) return '0';
  const unit = UNITS.find((u) => ms % u.ms === 0);
  return unit === undefined ? `${ms}ms` : `${ms / unit.ms}${unit.suffix}`;
}

/** The k + 1 buckets of k edges. */
export function histogramBuckets(edgesMs: readonly number[]): HistogramBucket[] {
  const starts = [0, ...edgesMs];
  return starts.map((fromMs, i) => {
    const toMs = edgesMs[i] ?? null;
    return { fromMs, toMs, label: toMs === null ? `>=${durationLabel(fromMs)}` : `${durationLabel(fromMs)}-${durationLabel(toMs)}` };
  });
}

/**
 * The report over full histograms (one count per bucket of `edgesMs`, in
 * every row): with 'auto', the buckets empty in every row at both ends are
 * left out. Shared by the reference and the ClickHouse query.
 */
export function histogramReport(edgesMs: TimeToConvertSpec['edgesMs'], rows: readonly TimeToConvertRow[]): TimeToConvertReport {
  const buckets = histogramBuckets(histogramEdgesOf(edgesMs));
  if (edgesMs !== 'auto') return { buckets, rows: [...rows] };
  const used = buckets.map((_, i) => rows.some((r) => (r.histogram[i] ?? 0) > 0));
  const first = used.indexOf(true);
  const end = used.lastIndexOf(true) + 1;
  return { buckets: buckets.slice(first, end), rows: rows.map((r) => ({ ...r, histogram: r.histogram.slice(first, end) })) };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What both variants share: the range, window, asOf, buckets, segment limit and period. */
type DistributionSpec = Omit<TimeToConvertSpec, 'from' | 'to'>;

/** Time to convert from `from` to `to` over the facts (see the semantics); `segmentOf` maps a lead to its segment value. */
export function timeToConvert(facts: readonly StageFact[], spec: TimeToConvertSpec, segmentOf: (leadId: string) => string = () => ''): TimeToConvertReport {
  const visible = facts.filter((f) => (spec.asOfMs === undefined || f.enteredAtMs <= spec.asOfMs) && (f.stage === spec.from || f.stage === spec.to));
  const toAt = new Map<string, number>();
  for (const f of visible) if (f.stage === spec.to) toAt.set(f.leadId, f.enteredAtMs);
  const entries = visible
    .filter((f) => f.stage === spec.from && f.enteredAtMs >= spec.fromMs && f.enteredAtMs < spec.toMs)
    .map((f) => ({ segment: segmentOf(f.leadId), fromMs: f.enteredAtMs, toMs: toAt.get(f.leadId) }));
  return distribution(entries, spec);
}

export interface TouchpointTimeToConvertSpec extends DistributionSpec {
  from: FunnelMatcher;
  to: FunnelMatcher;
  /** An envelope key or properties.<path>, read on the `from` event. */
  breakdown?: string | undefined;
  /** Who converts: each actor (`leads`, the default) or each account with its people's events pooled. */
  unit?: 'leads' | 'accounts_pooled' | undefined;
}

const byTimeThenPosition = (a: FunnelTouchpoint, b: FunnelTouchpoint) => a.occurredAtMs - b.occurredAtMs || a.position - b.position;

/** Time to convert between two touchpoint steps, per actor or pooled account (see the semantics). */
export function touchpointTimeToConvert(touchpoints: readonly FunnelTouchpoint[], spec: TouchpointTimeToConvertSpec): TimeToConvertReport {
  const read = spec.asOfMs === undefined ? touchpoints : touchpoints.filter((tp) => tp.occurredAtMs <= spec.asOfMs!);
  const historyOf = spec.unit === 'accounts_pooled' ? pooledHistoryOf(read) : (tp: FunnelTouchpoint) => tp.actorId;
  const byActor = new Map<string, FunnelTouchpoint[]>();
  for (const tp of read) {
    const history = historyOf(tp);
    let events = byActor.get(history);
    if (!events) byActor.set(history, (events = []));
    events.push(tp);
  }
  const entries: Entry[] = [];
  for (const events of byActor.values()) {
    events.sort(byTimeThenPosition);
    const from = events.find((e) => e.occurredAtMs >= spec.fromMs && e.occurredAtMs < spec.toMs && matchesFunnelMatcher(e, spec.from));
    if (!from) continue;
    const to = events.find((e) => e !== from && e.occurredAtMs >= from.occurredAtMs && matchesFunnelMatcher(e, spec.to));
    entries.push({ segment: spec.breakdown === undefined ? '' : valueOfKey(from, spec.breakdown), fromMs: from.occurredAtMs, toMs: to?.occurredAtMs });
  }
  return distribution(entries, spec);
}

/** One entry into `from`: its segment, when, and when `to` was reached (if ever). */
interface Entry {
  segment: string;
  fromMs: number;
  toMs: number | undefined;
}

/** The statistics of entries over fixed histogram edges (funnels' time to convert between steps). */
export const durationDistribution = (entries: readonly Entry[], edgesMs: readonly number[]): TimeToConvertReport => distribution(entries, { fromMs: 0, toMs: 0, edgesMs });

function distribution(entries: readonly Entry[], spec: DistributionSpec): TimeToConvertReport {
  const edges = histogramEdgesOf(spec.edgesMs);
  const { period: trend, timeZone = 'UTC' } = spec;
  const cells = new Map<string, { period: { period: string; label: string } | undefined; segment: string; entered: number; durations: number[] }>();
  for (const e of entries) {
    const period = trend === undefined ? undefined : cohortPeriodOf(e.fromMs, trend, timeZone);
    const key = JSON.stringify([period?.period ?? '', e.segment]);
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { period, segment: e.segment, entered: 0, durations: [] }));
    cell.entered++;
    const duration = e.toMs === undefined ? undefined : e.toMs - e.fromMs;
    if (duration !== undefined && duration >= 0 && (spec.windowMs === undefined || duration <= spec.windowMs)) cell.durations.push(duration);
  }
  let rows: TimeToConvertRow[] = [...cells.values()].map((c) => {
    const histogram = new Array<number>(edges.length + 1).fill(0);
    for (const d of c.durations) histogram[histogramBucketOf(edges, d)]!++;
    const n = c.durations.length;
    return {
      ...(c.period === undefined ? {} : { period: c.period.period, periodLabel: c.period.label }),
      segment: c.segment,
      entered: c.entered,
      converted: n,
      meanMs: n === 0 ? null : c.durations.reduce((a, b) => a + b, 0) / n,
      medianMs: quantileInclusive(c.durations, 0.5),
      p90Ms: quantileInclusive(c.durations, 0.9),
      histogram,
    };
  });
  if (spec.segmentLimit !== undefined) rows = keepLargestSegments(rows, spec.segmentLimit, (r) => r.entered);
  return histogramReport(spec.edgesMs, rows.sort((a, b) => compare(a.period ?? '', b.period ?? '') || compare(a.segment, b.segment)));
}
