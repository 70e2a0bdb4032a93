import { z } from 'zod';
import type { SegmentKey as SegmentKeyName } from '@sluice/domain';
import { PROPERTY_KEY_PREFIX, SEGMENT_KEYS, instantMs } from '@sluice/domain';
import type { DriverCounts, DriverReport, DriverSpec } from './queries/drivers/reference.js';
import { DRIVER_KINDS, byMembers, driverReport } from './queries/drivers/reference.js';
import { OffsetDateTime, StageIdSchema } from '@sluice/schemas';
import type { AnalyticsClient } from './client.js';
import { settingsClause } from './client.js';
import { isTrue } from './close-rates.js';
import { Params } from './funnel-sql.js';
import { ActivityProperty, ActivityTypes, Confidence, ConfigVersion, DateRange, STAGE_QUERY_LIMITS, SegmentKey, TimeoutSeconds, Window, windowMsOf } from './stage-queries.js';
import { profileJoinSql, segmentExpr, stageFactsSql } from './stage-sql.js';

/**
 * Conversion drivers in ClickHouse: per touchpoint (type, or type and
 * property value) and per profile fact (a lead_profile key and value), how
 * many of the leads entering `from` in the date range have it and how many
 * of those converted to `to`; driverReport (@sluice/domain) adds odds
 * ratios, intervals, Fisher p-values and Benjamini-Hochberg q-values. Count
 * semantics: queries/drivers/reference.ts, which the property test holds this SQL to.
 *
 * Example:
 *   { "configVersion": "v7", "from": "mql", "to": "sql",
 *     "dateRange": { "from": "2026-01-01T00:00:00Z", "to": "2026-07-01T00:00:00Z" },
 *     "window": { "value": 90, "unit": "days" }, "property": "properties.pageType",
 *     "profileKeys": ["industry", "companySize", "channel"] }
 */

/**
 * Profile keys tested by default: who the lead is and where it came from.
 * Not owner or currentStage: both are set by the outcome (sales take the lead,
 * the stage is where it got to), so they would "predict" conversion trivially.
 */
export const DEFAULT_DRIVER_PROFILE_KEYS = ['businessUnit', 'source', 'channel', 'campaign', 'role', 'industry', 'country', 'companySize', 'leadSource'] as const satisfies readonly SegmentKeyName[];

export const ConversionDriversQuerySchema = z
  .strictObject({
    configVersion: ConfigVersion,
    /** The population: leads entering this stage in dateRange. */
    from: StageIdSchema,
    /** Converted: reached this stage at or after `from` (within the window). */
    to: StageIdSchema,
    dateRange: DateRange,
    window: Window.optional(),
    asOf: OffsetDateTime.optional(),
    property: ActivityProperty.optional(),
    types: ActivityTypes,
    profileKeys: z.array(SegmentKey).max(SEGMENT_KEYS.length).default(() => [...DEFAULT_DRIVER_PROFILE_KEYS]),
    /** Features tested (most leads first): the multiple-comparisons correction runs over these. */
    featureLimit: z.number().int().min(1).max(STAGE_QUERY_LIMITS.maxActivities).default(200),
    confidence: Confidence,
    timeoutSeconds: TimeoutSeconds,
  })
  .superRefine(
    (q, ctx) => {
      if (typeof q.to === 'string' && q.from === q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must differ from from' });
    },
    { when: () => true },
  );
export type ConversionDriversQueryInput = z.input<typeof ConversionDriversQuerySchema>;
export type ConversionDriversQuery = z.output<typeof ConversionDriversQuerySchema>;

export function driverSpecOf(q: ConversionDriversQuery): DriverSpec {
  return {
    from: q.from,
    to: q.to,
    fromMs: instantMs(q.dateRange.from),
    toMs: instantMs(q.dateRange.to),
    windowMs: q.window === undefined ? undefined : windowMsOf(q.window),
    asOfMs: q.asOf === undefined ? undefined : instantMs(q.asOf),
    property: q.property === undefined ? undefined : q.property.slice(PROPERTY_KEY_PREFIX.length),
    types: q.types,
    profileKeys: [...new Set(q.profileKeys)],
    featureLimit: q.featureLimit,
  };
}

export interface ConversionDriversResult extends DriverReport {
  /** True when more features existed than featureLimit (those with the most leads were tested). */
  truncated: boolean;
}

interface SqlRow {
  total_row: number | string | boolean;
  kind: string;
  key: string;
  value: string;
  leads: number | string;
  converted: number | string;
}

/** A time no event reaches: the feature cut-off of a member that did not convert, without a window. */
const NO_END_MS = '9223372036854775807';

export function driverCountsSql(q: ConversionDriversQuery, p: Params): string {
  const spec = driverSpecOf(q);
  const facts = stageFactsSql(p, q.configVersion, [spec.from, spec.to], spec.asOfMs);
  const from = p.bind('from_stage', 'String', spec.from);
  const to = p.bind('to_stage', 'String', spec.to);
  const window = spec.windowMs === undefined ? undefined : p.bind('window_ms', 'Int64', spec.windowMs);
  const value = spec.property === undefined ? `''` : `t.props[${p.bind('property', 'String', spec.property)}]`;
  const ms = 'toUnixTimestamp64Milli(t.occurred_at)';
  // a converted member's features come strictly before converting; the others' up to the window's end, inclusive
  const conditions = [`(m.conv AND ${ms} < m.until_ms OR NOT m.conv AND ${ms} <= m.until_ms)`];
  if (spec.asOfMs !== undefined) conditions.push(`${ms} <= ${p.bind('as_of_ms', 'Int64', spec.asOfMs)}`);
  if (spec.types !== undefined) conditions.push(`t.type IN ${p.bind('types', 'Array(String)', spec.types)}`);
  const keys = spec.profileKeys;
  const profileFeatures =
    keys.length === 0
      ? ''
      : `UNION ALL
        SELECT 'profile' AS kind, kv.1 AS key, kv.2 AS value, count() AS leads, countIf(conv) AS converted
        FROM (
          SELECT m.conv AS conv, arrayJoin(arrayZip(${p.bind('profile_keys', 'Array(String)', keys)}, [${keys.map((k) => segmentExpr(k, p)).join(', ')}])) AS kv
          FROM members AS m
          ${profileJoinSql(p, q.configVersion, 'm.lead_id')}
        )
        WHERE kv.2 != ''
        GROUP BY key, value`;
  return `
    WITH
      members AS (
        SELECT lead_id, conv,
          if(conv, to_ms, ${window === undefined ? `toInt64(${NO_END_MS})` : `from_ms + ${window}`}) AS until_ms
        FROM (
          SELECT lead_id, from_ms, has_to AND to_ms >= from_ms${window === undefined ? '' : ` AND to_ms - from_ms <= ${window}`} AS conv, to_ms
          FROM (
            SELECT lead_id, maxIf(ms, stage = ${from}) AS from_ms, countIf(stage = ${to}) > 0 AS has_to, maxIf(ms, stage = ${to}) AS to_ms
            FROM (${facts})
            GROUP BY lead_id
            HAVING countIf(stage = ${from}) > 0
          )
          WHERE from_ms >= ${p.bind('range_from_ms', 'Int64', spec.fromMs)} AND from_ms < ${p.bind('range_to_ms', 'Int64', spec.toMs)}
        )
      )
    SELECT * FROM (
      SELECT true AS total_row, '' AS kind, '' AS key, '' AS value, count() AS leads, countIf(conv) AS converted
      FROM members
      UNION ALL
      SELECT * FROM (
        SELECT false AS total_row, kind, key, value, leads, converted FROM (
          SELECT 'event' AS kind, type AS key, value, count() AS leads, countIf(conv) AS converted
          FROM (
            SELECT DISTINCT t.actor_id AS lead_id, t.type AS type, ${value} AS value, m.conv AS conv
            FROM touchpoints_resolved AS t
            INNER JOIN members AS m ON m.lead_id = t.actor_id
            WHERE ${conditions.join(' AND ')}
          )
          GROUP BY key, value
          ${profileFeatures}
        )
        ORDER BY leads DESC, kind, key, value
        LIMIT ${p.bind('feature_limit', 'UInt32', q.featureLimit + 1)}
      )
    )
    ${settingsClause({ max_execution_time: q.timeoutSeconds })}`;
}

const isKind = (k: string): k is (typeof DRIVER_KINDS)[number] => (DRIVER_KINDS as readonly string[]).includes(k);

/** Counts from ClickHouse, in the reference's shape and order. */
export async function conversionDriverCounts(client: AnalyticsClient, q: ConversionDriversQuery): Promise<DriverCounts & { truncated: boolean }> {
  const p = new Params();
  const rows = await client.rows<SqlRow>(driverCountsSql(q, p), p.values);
  const total = rows.find((r) => isTrue(r.total_row));
  const features = rows
    .filter((r) => !isTrue(r.total_row))
    .map((r) => {
      if (!isKind(r.kind)) throw new Error(`unexpected driver kind ${r.kind}`);
      return { kind: r.kind, key: r.key, value: r.value, leads: Number(r.leads), converted: Number(r.converted) };
    })
    .sort(byMembers);
  return {
    leads: Number(total?.leads ?? 0),
    converted: Number(total?.converted ?? 0),
    features: features.slice(0, q.featureLimit),
    truncated: features.length > q.featureLimit,
  };
}

/** Conversion drivers with odds ratios and significance (validated here too; the API validates first to report field errors). */
export async function runConversionDrivers(client: AnalyticsClient, input: ConversionDriversQuery | ConversionDriversQueryInput): Promise<ConversionDriversResult> {
  const q = ConversionDriversQuerySchema.parse(input);
  const { truncated, ...counts } = await conversionDriverCounts(client, q);
  return { ...driverReport(counts, { confidence: q.confidence }), truncated };
}
