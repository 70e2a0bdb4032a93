import { z } from 'zod';
import type { TimeToConvertReport, TimeToConvertRow, TimeToConvertSpec, TouchpointTimeToConvertSpec } from './queries/time-to-convert/reference.js';
import { instantMs } from '@sluice/domain';
import { TREND_PERIODS, histogramEdgesOf, histogramReport } from './queries/time-to-convert/reference.js';
import { OffsetDateTime, StageIdSchema, TimeZoneSchema } from '@sluice/schemas';
import type { AnalyticsClient } from './client.js';
import { settingsClause } from './client.js';
import { Key, StepMatcherSchema, conditionsOf } from './funnel-definition.js';
import { Params, keyExpr, matcherExpr, pooledTouchpoints } from './funnel-sql.js';
import type { Parsed } from './stage-queries.js';
import { ConfigVersion, DateRange, Filters, STAGE_QUERY_LIMITS, SegmentKey, TimeoutSeconds, Window, parseWith, periodsInRange, windowMsOf } from './stage-queries.js';
import { periodSql, profileFilterSql, profileJoinSql, segmentExpr, stageFactsSql } from './stage-sql.js';

/**
 * Time to convert between two stages of a config version: over the leads that
 * entered `from` in the date range and reached `to` (within the window), the
 * distribution of how long it took, per segment. Or between two touchpoint
 * steps (`from` and `to` are { type, where } as funnel steps are), per actor,
 * per breakdown value of the `from` event. Semantics in
 * queries/time-to-convert/reference.ts, which the property tests hold this SQL to.
 *
 * Example body (POST /v1/time-to-convert):
 *   { "configVersion": "v7", "from": "mql", "to": "sql",
 *     "dateRange": { "from": "2026-01-01T00:00:00+01:00", "to": "2026-04-01T00:00:00+02:00" },
 *     "window": { "value": 90, "unit": "days" },
 *     "buckets": [{ "value": 1, "unit": "days" }, { "value": 7, "unit": "days" }, { "value": 30, "unit": "days" }],
 *     "segment": "channel", "filters": [{ "key": "businessUnit", "values": ["emea"] }] }
 * `buckets` defaults to "auto" (the fixed ladder 1m ... 730d, trimmed to the
 * buckets used). With "period": "month" (day, week, month, quarter, year)
 * the rows are per (month of entering `from` in timeZone, segment): the trend.
 * Between touchpoint steps:
 *   { "from": { "type": "visit", "where": [{ "key": "source", "op": "eq", "value": "google" }] },
 *     "to": { "type": "form_submit" }, "dateRange": { ... }, "breakdown": "properties.x.utm_campaign" }
 */

export const TIME_TO_CONVERT_LIMITS = {
  /** Caller-given edges (one bucket more than edges). */
  maxBucketEdges: 49,
  maxEdgeDays: STAGE_QUERY_LIMITS.maxWindowDays,
  maxSegments: STAGE_QUERY_LIMITS.maxSegments,
  maxDateRangeDays: STAGE_QUERY_LIMITS.maxDateRangeDays,
  maxTimeoutSeconds: STAGE_QUERY_LIMITS.maxTimeoutSeconds,
  /** periods x segments a trend may return. */
  maxResultRows: STAGE_QUERY_LIMITS.maxResultRows,
} as const;

const EDGE_UNIT_MS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
const edgeMsOf = (e: { value: number; unit: keyof typeof EDGE_UNIT_MS }) => e.value * EDGE_UNIT_MS[e.unit];

const BucketEdge = z
  .strictObject({ value: z.number().int().positive(), unit: z.enum(['minutes', 'hours', 'days']) })
  .refine((e) => !(edgeMsOf(e) > TIME_TO_CONVERT_LIMITS.maxEdgeDays * EDGE_UNIT_MS.days), { message: `must be at most ${TIME_TO_CONVERT_LIMITS.maxEdgeDays} days` });

const Endpoint = z.union([StageIdSchema, StepMatcherSchema], { error: 'must be a stage id or a touchpoint step { type, where }' });

export const TimeToConvertQuerySchema = z
  .strictObject({
    /** Stages only: the rule configuration whose transitions to read. */
    configVersion: ConfigVersion.optional(),
    /** Both stage ids, or both touchpoint steps. */
    from: Endpoint,
    to: Endpoint,
    /** Entries into `from` in [from, to) are counted. */
    dateRange: DateRange,
    /** `to` must be reached within this long after entering `from` (inclusive); absent: any time. */
    window: Window.optional(),
    /** Histogram edges, ascending (buckets [0, e1), [e1, e2), ..., [ek, inf)), or "auto". */
    buckets: z
      .union([z.literal('auto'), z.array(BucketEdge).min(1).max(TIME_TO_CONVERT_LIMITS.maxBucketEdges)], {
        error: `must be "auto" or a list of at most ${TIME_TO_CONVERT_LIMITS.maxBucketEdges} ascending edges { value, unit: minutes | hours | days }`,
      })
      .default('auto'),
    /** Stages only: a lead_profile key. */
    segment: SegmentKey.optional(),
    /** Stages only. */
    filters: Filters,
    /** Touchpoint steps only: an envelope key or properties.<path> of the `from` event. */
    breakdown: Key.optional(),
    /** Touchpoint steps only: leads (each actor, the default) or accounts_pooled (an account's people's events pooled, as the funnel's unit). */
    unit: z.enum(['leads', 'accounts_pooled']).optional(),
    /** Ignore transitions (or touchpoints) after this instant. */
    asOf: OffsetDateTime.optional(),
    /** Segments returned: the largest by entries (over all periods). */
    segmentLimit: z.number().int().min(1).max(TIME_TO_CONVERT_LIMITS.maxSegments).default(50),
    /** The trend: rows per period of entering `from` (in timeZone) as well; absent: one row per segment. */
    period: z.enum(TREND_PERIODS, { error: `must be one of ${TREND_PERIODS.join(', ')}` }).optional(),
    /** The zone periods are cut in, as for stage conversion. */
    timeZone: TimeZoneSchema.default('UTC'),
    timeoutSeconds: TimeoutSeconds,
  })
  .superRefine(
    (q, ctx) => {
      const stages = typeof q.from === 'string';
      if (typeof q.from === 'object' && q.from !== null && typeof q.to === 'string') ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be a touchpoint step, as from is' });
      if (stages && typeof q.to === 'object' && q.to !== null) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be a stage id, as from is' });
      if (stages && q.from === q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must differ from from' });
      if (stages && q.configVersion === undefined) ctx.addIssue({ code: 'custom', path: ['configVersion'], message: 'required between stages: the rule configuration version whose transitions to read' });
      if (stages && q.breakdown !== undefined) ctx.addIssue({ code: 'custom', path: ['breakdown'], message: 'only between touchpoint steps; between stages use segment' });
      if (stages && q.unit !== undefined) ctx.addIssue({ code: 'custom', path: ['unit'], message: 'only between touchpoint steps; between stages the conversion query counts accounts (unit account)' });
      if (!stages && q.segment !== undefined) ctx.addIssue({ code: 'custom', path: ['segment'], message: 'only between stages; between touchpoint steps use breakdown' });
      if (!stages && Array.isArray(q.filters) && q.filters.length > 0) ctx.addIssue({ code: 'custom', path: ['filters'], message: 'only between stages; put conditions in the steps' });
      const periods = q.period === undefined ? undefined : periodsInRange(q.dateRange, q.period);
      if (periods?.tooMany !== undefined) ctx.addIssue({ code: 'custom', path: ['period'], message: periods.tooMany });
      else if (periods !== undefined && (q.segment !== undefined || q.breakdown !== undefined) && typeof q.segmentLimit === 'number' && periods.count * q.segmentLimit > TIME_TO_CONVERT_LIMITS.maxResultRows) {
        const rows = periods.count * q.segmentLimit;
        ctx.addIssue({ code: 'custom', path: ['segmentLimit'], message: `periods x segments could reach ${rows} rows, at most ${TIME_TO_CONVERT_LIMITS.maxResultRows}: lower segmentLimit or choose a longer period` });
      }
      if (!Array.isArray(q.buckets)) return;
      const edges = q.buckets.map((e) => (typeof e === 'object' && e !== null && typeof e.value === 'number' && Object.hasOwn(EDGE_UNIT_MS, e.unit) ? edgeMsOf(e) : Number.NaN));
      edges.forEach((e, i) => {
        if (i > 0 && e <= edges[i - 1]!) ctx.addIssue({ code: 'custom', path: ['buckets', i], message: 'edges must be strictly ascending' });
      });
    },
    { when: () => true },
  );
export type TimeToConvertQueryInput = z.input<typeof TimeToConvertQuerySchema>;
export type TimeToConvertQuery = z.output<typeof TimeToConvertQuerySchema>;

/** Validates a time-to-convert query, naming every bad field (for a 400 problem+json). */
export const parseTimeToConvertQuery = (input: unknown): Parsed<TimeToConvertQuery> => parseWith(TimeToConvertQuerySchema, input);

/** A query between two stages (else between touchpoint steps). */
export type StageTimeToConvertQuery = TimeToConvertQuery & { from: string; to: string; configVersion: string };
export type TouchpointTimeToConvertQuery = TimeToConvertQuery & { from: z.output<typeof StepMatcherSchema>; to: z.output<typeof StepMatcherSchema> };
export const isStageTimeToConvertQuery = (q: TimeToConvertQuery): q is StageTimeToConvertQuery => typeof q.from === 'string';

/** The normalised form the reference computes (segments and filters are applied by the caller). */
export function timeToConvertSpecOf(q: StageTimeToConvertQuery): TimeToConvertSpec {
  return { ...distributionSpecOf(q), from: q.from, to: q.to };
}

export function touchpointTimeToConvertSpecOf(q: TouchpointTimeToConvertQuery): TouchpointTimeToConvertSpec {
  return {
    ...distributionSpecOf(q),
    from: { type: q.from.type, where: conditionsOf(q.from.where) },
    to: { type: q.to.type, where: conditionsOf(q.to.where) },
    breakdown: q.breakdown,
    unit: q.unit,
  };
}

function distributionSpecOf(q: TimeToConvertQuery): Omit<TimeToConvertSpec, 'from' | 'to'> {
  return {
    fromMs: instantMs(q.dateRange.from),
    toMs: instantMs(q.dateRange.to),
    windowMs: q.window === undefined ? undefined : windowMsOf(q.window),
    asOfMs: q.asOf === undefined ? undefined : instantMs(q.asOf),
    edgesMs: q.buckets === 'auto' ? 'auto' : q.buckets.map(edgeMsOf),
    segmentLimit: q.segmentLimit,
    period: q.period,
    timeZone: q.timeZone,
  };
}

export interface TimeToConvertResult extends TimeToConvertReport {
  /** The query as validated, defaults filled in. */
  query: TimeToConvertQuery;
  /** Segments that had entries; more than returned when segmentLimit cut some. */
  segments: number;
  truncated: boolean;
}

interface SqlRow {
  period: string;
  period_label: string;
  segment: string;
  entered: number | string;
  converted: number | string;
  sum_ms: number | string;
  median_ms: number | null;
  p90_ms: number | null;
  histogram: Array<number | string>;
  segments: number | string;
}

/**
 * The distribution over entries (one row per lead or actor that entered
 * `from`, with columns from_ms, to_ms, has_to and segment): one aggregation
 * per period (stage conversion's, of from_ms; one period without a trend) and
 * segment, each converted entry counted in its bucket (the edges at or below
 * its duration). Segments are ranked by entries over all periods and cut in SQL.
 */
function distributionSql(q: TimeToConvertQuery, entries: string, windowMs: number | undefined, p: Params): string {
  const edges = histogramEdgesOf(distributionSpecOf(q).edgesMs);
  const window = windowMs === undefined ? '' : ` AND to_ms - from_ms <= ${p.bind('window_ms', 'Int64', windowMs)}`;
  const period = periodSql(q.period ?? 'all', 'from_ms', p, q.timeZone);
  return `
    SELECT period, period_label, segment, entered, converted, sum_ms, median_ms, p90_ms, histogram, segments
    FROM (
      SELECT *, max(segment_rank) OVER () AS segments
      FROM (
        SELECT *, dense_rank() OVER (ORDER BY segment_total DESC, segment) AS segment_rank
        FROM (
          SELECT period, period_label, segment,
            count() AS entered,
            countIf(conv) AS converted,
            sumIf(to_ms - from_ms, conv) AS sum_ms,
            if(converted = 0, NULL, quantileExactInclusiveIf(0.5)(to_ms - from_ms, conv)) AS median_ms,
            if(converted = 0, NULL, quantileExactInclusiveIf(0.9)(to_ms - from_ms, conv)) AS p90_ms,
            groupArrayIf(arrayCount(e -> e <= to_ms - from_ms, ${p.bind('edges_ms', 'Array(Int64)', edges)}), conv) AS converted_buckets,
            arrayMap(b -> countEqual(converted_buckets, b), range(${p.bind('bucket_count', 'UInt32', edges.length + 1)})) AS histogram,
            sum(count()) OVER (PARTITION BY segment) AS segment_total
          FROM (
            SELECT toString(${period.start}) AS period, ${period.label} AS period_label, segment, from_ms, to_ms, has_to AND to_ms >= from_ms${window} AS conv
            FROM (${entries})
          )
          GROUP BY period, period_label, segment
        )
      )
    )
    WHERE segment_rank <= ${p.bind('segment_limit', 'UInt32', q.segmentLimit)}
    ORDER BY period, segment
    ${settingsClause({ max_execution_time: q.timeoutSeconds })}`;
}

/**
 * Between stages: the config's facts for the two stages, one row per lead
 * with its `from` and `to` times (a lead has at most one fact per stage), the
 * profile joined only when a segment or filter needs it.
 */
function stageEntriesSql(q: StageTimeToConvertQuery, p: Params): string {
  const spec = timeToConvertSpecOf(q);
  const from = p.bind('from_stage', 'String', spec.from);
  const to = p.bind('to_stage', 'String', spec.to);
  const facts = stageFactsSql(p, q.configVersion, [spec.from, spec.to], spec.asOfMs);
  const withProfile = q.segment !== undefined || q.filters.length > 0;
  const segment = q.segment === undefined ? `''` : segmentExpr(q.segment, p);
  const conditions = [`from_ms >= ${p.bind('range_from_ms', 'Int64', spec.fromMs)}`, `from_ms < ${p.bind('range_to_ms', 'Int64', spec.toMs)}`, ...profileFilterSql(q.filters, p)];
  return `
    SELECT from_ms, to_ms, has_to, ${segment} AS segment
    FROM (
      SELECT lead_id, anyIf(ms, stage = ${from}) AS from_ms, countIf(stage = ${to}) > 0 AS has_to, anyIf(ms, stage = ${to}) AS to_ms
      FROM (${facts})
      GROUP BY lead_id
      HAVING countIf(stage = ${from}) > 0
    ) AS x
    ${withProfile ? profileJoinSql(p, q.configVersion, 'x.lead_id') : ''}
    WHERE ${conditions.join(' AND ')}`;
}

/**
 * Between touchpoint steps: per actor, its matching events sorted by (time,
 * position); the first `from` event in range, then the first `to` event at
 * or after its millisecond that is not the same event. Only events from the
 * range's start (and up to asOf) are read: a `to` before it cannot count.
 */
function touchpointEntriesSql(q: TouchpointTimeToConvertQuery, p: Params): string {
  const spec = touchpointTimeToConvertSpecOf(q);
  const rangeFrom = p.bind('range_from_ms', 'Int64', spec.fromMs);
  const scan = [`occurred_at >= fromUnixTimestamp64Milli(${rangeFrom}, 'UTC')`];
  const asOf = spec.asOfMs === undefined ? undefined : `occurred_at <= fromUnixTimestamp64Milli(${p.bind('as_of_ms', 'Int64', spec.asOfMs)}, 'UTC')`;
  if (asOf !== undefined) scan.push(asOf);
  const breakdown = spec.breakdown === undefined ? `''` : keyExpr(spec.breakdown, 'bd_key', p);
  return `
    SELECT mss[fi] AS from_ms, ti > 0 AS has_to, if(ti > 0, mss[ti], 0) AS to_ms, bds[fi] AS segment
    FROM (
      SELECT
        arraySort(groupArray((ms, position, is_from, is_to, bd))) AS evs,
        arrayMap(e -> e.1, evs) AS mss, arrayMap(e -> e.3, evs) AS froms, arrayMap(e -> e.4, evs) AS tos, arrayMap(e -> e.5, evs) AS bds,
        arrayFirstIndex((f, t) -> f AND t < ${p.bind('range_to_ms', 'Int64', spec.toMs)}, froms, mss) AS fi,
        arrayFirstIndex((i, t, m) -> t AND i != fi AND m >= mss[fi], arrayEnumerate(mss), tos, mss) AS ti
      FROM (
        SELECT actor_id, toUnixTimestamp64Milli(occurred_at) AS ms, position, ${matcherExpr(spec.from, 'from', p)} AS is_from, ${matcherExpr(spec.to, 'to', p)} AS is_to, ${breakdown} AS bd
        FROM ${spec.unit === 'accounts_pooled' ? pooledTouchpoints(p, asOf) : 'touchpoints_resolved'}
        WHERE ${scan.join(' AND ')}
      )
      WHERE is_from OR is_to
      GROUP BY actor_id
    )
    WHERE fi > 0`;
}

export function timeToConvertSql(q: TimeToConvertQuery, p: Params): string {
  const windowMs = distributionSpecOf(q).windowMs;
  return distributionSql(q, isStageTimeToConvertQuery(q) ? stageEntriesSql(q, p) : touchpointEntriesSql(q as TouchpointTimeToConvertQuery, p), windowMs, p);
}

/** Runs a time-to-convert query between two stages or two touchpoint steps (validated here too; the API validates first to report field errors). */
export async function runTimeToConvert(client: AnalyticsClient, input: TimeToConvertQuery | TimeToConvertQueryInput): Promise<TimeToConvertResult> {
  const q = TimeToConvertQuerySchema.parse(input);
  const p = new Params();
  const rows = await client.rows<SqlRow>(timeToConvertSql(q, p), p.values);
  const segments = Number(rows[0]?.segments ?? 0);
  const full: TimeToConvertRow[] = rows.map((r) => {
    const converted = Number(r.converted);
    return {
      ...(q.period === undefined ? {} : { period: r.period, periodLabel: r.period_label }),
      segment: r.segment,
      entered: Number(r.entered),
      converted,
      meanMs: converted === 0 ? null : Number(r.sum_ms) / converted,
      medianMs: r.median_ms === null ? null : Number(r.median_ms),
      p90Ms: r.p90_ms === null ? null : Number(r.p90_ms),
      histogram: r.histogram.map(Number),
    };
  });
  return { query: q, ...histogramReport(distributionSpecOf(q).edgesMs, full), segments, truncated: segments > q.segmentLimit };
}
