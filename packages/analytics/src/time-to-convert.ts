import { z } from 'zod';
import type { TimeToConvertReport, TimeToConvertRow, TimeToConvertSpec } from '@sluice/domain';
import { histogramEdgesOf, histogramReport, instantMs } from '@sluice/domain';
import { OffsetDateTime, StageIdSchema } from '@sluice/schemas';
import type { AnalyticsClient } from './client.js';
import { settingsClause } from './client.js';
import { Params } from './funnel-sql.js';
import type { Parsed } from './stage-queries.js';
import { ConfigVersion, DateRange, Filters, STAGE_QUERY_LIMITS, SegmentKey, TimeoutSeconds, Window, parseWith, windowMsOf } from './stage-queries.js';
import { profileFilterSql, profileJoinSql, segmentExpr, stageFactsSql } from './stage-sql.js';

/**
 * Time to convert between two stages of a config version: over the leads that
 * entered `from` in the date range and reached `to` (within the window), the
 * distribution of how long it took, per segment. Semantics in @sluice/domain
 * reference/time-to-convert.ts, which the property tests hold this SQL to.
 *
 * Example body (POST /v1/time-to-convert):
 *   { "configVersion": "v7", "from": "mql", "to": "sql",
 *     "dateRange": { "from": "2026-01-01T00:00:00+01:00", "to": "2026-04-01T00:00:00+02:00" },
 *     "window": { "value": 90, "unit": "days" },
 *     "buckets": [{ "value": 1, "unit": "days" }, { "value": 7, "unit": "days" }, { "value": 30, "unit": "days" }],
 *     "segment": "channel", "filters": [{ "key": "businessUnit", "values": ["emea"] }] }
 * `buckets` defaults to "auto" (the fixed ladder 1m ... 730d, trimmed to the
 * buckets used).
 */

export const TIME_TO_CONVERT_LIMITS = {
  /** Caller-given edges (one bucket more than edges). */
  maxBucketEdges: 49,
  maxEdgeDays: STAGE_QUERY_LIMITS.maxWindowDays,
  maxSegments: STAGE_QUERY_LIMITS.maxSegments,
  maxDateRangeDays: STAGE_QUERY_LIMITS.maxDateRangeDays,
  maxTimeoutSeconds: STAGE_QUERY_LIMITS.maxTimeoutSeconds,
} as const;

const EDGE_UNIT_MS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
const edgeMsOf = (e: { value: number; unit: keyof typeof EDGE_UNIT_MS }) => e.value * EDGE_UNIT_MS[e.unit];

const BucketEdge = z
  .strictObject({ value: z.number().int().positive(), unit: z.enum(['minutes', 'hours', 'days']) })
  .refine((e) => !(edgeMsOf(e) > TIME_TO_CONVERT_LIMITS.maxEdgeDays * EDGE_UNIT_MS.days), { message: `must be at most ${TIME_TO_CONVERT_LIMITS.maxEdgeDays} days` });

export const TimeToConvertQuerySchema = z
  .strictObject({
    configVersion: ConfigVersion,
    from: StageIdSchema,
    to: StageIdSchema,
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
    segment: SegmentKey.optional(),
    filters: Filters,
    /** Ignore transitions after this instant. */
    asOf: OffsetDateTime.optional(),
    /** Segments returned: the largest by entries. */
    segmentLimit: z.number().int().min(1).max(TIME_TO_CONVERT_LIMITS.maxSegments).default(50),
    timeoutSeconds: TimeoutSeconds,
  })
  .superRefine(
    (q, ctx) => {
      if (typeof q.from === 'string' && q.from === q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must differ from from' });
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

/** The normalised form the reference computes (segments and filters are applied by the caller). */
export function timeToConvertSpecOf(q: TimeToConvertQuery): TimeToConvertSpec {
  return {
    from: q.from,
    to: q.to,
    fromMs: instantMs(q.dateRange.from),
    toMs: instantMs(q.dateRange.to),
    windowMs: q.window === undefined ? undefined : windowMsOf(q.window),
    asOfMs: q.asOf === undefined ? undefined : instantMs(q.asOf),
    edgesMs: q.buckets === 'auto' ? 'auto' : q.buckets.map(edgeMsOf),
    segmentLimit: q.segmentLimit,
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
 * How: the config's facts for the two stages, one row per lead with its
 * `from` and `to` times (a lead has at most one fact per stage), the profile
 * joined only when a segment or filter needs it; one aggregation per segment
 * with the bucket of each converted lead (the edges at or below its
 * duration) counted per bucket. Segments are ranked by entries and cut in SQL.
 */
export function timeToConvertSql(q: TimeToConvertQuery, p: Params): string {
  const spec = timeToConvertSpecOf(q);
  const edges = histogramEdgesOf(spec.edgesMs);
  const from = p.bind('from_stage', 'String', spec.from);
  const to = p.bind('to_stage', 'String', spec.to);
  const facts = stageFactsSql(p, q.configVersion, [spec.from, spec.to], spec.asOfMs);
  const withProfile = q.segment !== undefined || q.filters.length > 0;
  const segment = q.segment === undefined ? `''` : segmentExpr(q.segment, p);
  const conditions = [`from_ms >= ${p.bind('range_from_ms', 'Int64', spec.fromMs)}`, `from_ms < ${p.bind('range_to_ms', 'Int64', spec.toMs)}`, ...profileFilterSql(q.filters, p)];
  const window = spec.windowMs === undefined ? '' : ` AND to_ms - from_ms <= ${p.bind('window_ms', 'Int64', spec.windowMs)}`;
  return `
    SELECT segment, entered, converted, sum_ms, median_ms, p90_ms, histogram, segments
    FROM (
      SELECT *, count() OVER () AS segments, row_number() OVER (ORDER BY entered DESC, segment) AS segment_rank
      FROM (
        SELECT segment,
          count() AS entered,
          countIf(conv) AS converted,
          sumIf(to_ms - from_ms, conv) AS sum_ms,
          if(converted = 0, NULL, quantileExactInclusiveIf(0.5)(to_ms - from_ms, conv)) AS median_ms,
          if(converted = 0, NULL, quantileExactInclusiveIf(0.9)(to_ms - from_ms, conv)) AS p90_ms,
          groupArrayIf(arrayCount(e -> e <= to_ms - from_ms, ${p.bind('edges_ms', 'Array(Int64)', edges)}), conv) AS converted_buckets,
          arrayMap(b -> countEqual(converted_buckets, b), range(${p.bind('bucket_count', 'UInt32', edges.length + 1)})) AS histogram
        FROM (
          SELECT from_ms, to_ms, has_to AND to_ms >= from_ms${window} AS conv, ${segment} AS segment
          FROM (
            SELECT lead_id, anyIf(ms, stage = ${from}) AS from_ms, countIf(stage = ${to}) > 0 AS has_to, anyIf(ms, stage = ${to}) AS to_ms
            FROM (${facts})
            GROUP BY lead_id
            HAVING countIf(stage = ${from}) > 0
          ) AS x
          ${withProfile ? profileJoinSql(p, q.configVersion, 'x.lead_id') : ''}
          WHERE ${conditions.join(' AND ')}
        )
        GROUP BY segment
      )
    )
    WHERE segment_rank <= ${p.bind('segment_limit', 'UInt32', q.segmentLimit)}
    ORDER BY segment
    ${settingsClause({ max_execution_time: q.timeoutSeconds })}`;
}

/** Runs a time-to-convert query between two stages (validated here too; the API validates first to report field errors). */
export async function runTimeToConvert(client: AnalyticsClient, input: TimeToConvertQuery | TimeToConvertQueryInput): Promise<TimeToConvertResult> {
  const q = TimeToConvertQuerySchema.parse(input);
  const p = new Params();
  const rows = await client.rows<SqlRow>(timeToConvertSql(q, p), p.values);
  const segments = Number(rows[0]?.segments ?? 0);
  const full: TimeToConvertRow[] = rows.map((r) => {
    const converted = Number(r.converted);
    return {
      segment: r.segment,
      entered: Number(r.entered),
      converted,
      meanMs: converted === 0 ? null : Number(r.sum_ms) / converted,
      medianMs: r.median_ms === null ? null : Number(r.median_ms),
      p90Ms: r.p90_ms === null ? null : Number(r.p90_ms),
      histogram: r.histogram.map(Number),
    };
  });
  return { query: q, ...histogramReport(timeToConvertSpecOf(q).edgesMs, full), segments, truncated: segments > q.segmentLimit };
}
