import { z } from 'zod';
import type { SegmentKey as ProfileSegmentKey } from '@sluice/domain';
import { SEGMENT_KEYS, instantMs } from '@sluice/domain';
import type { RetentionCohortRow, RetentionSpec } from './queries/cohorts/reference.js';
import { RETENTION_COUNTING_UNITS, RETENTION_PERIODS } from './queries/cohorts/reference.js';
import { EVENT_TYPES, OffsetDateTime, TimeZoneSchema } from '@sluice/schemas';
import type { AnalyticsClient } from './client.js';
import { settingsClause } from './client.js';
import { EventType } from './funnel-definition.js';
import { Params } from './funnel-sql.js';
import type { Parsed } from './stage-queries.js';
import { ConfigVersion, DateRange, STAGE_QUERY_LIMITS, TimeoutSeconds, parseWith } from './stage-queries.js';
import { periodSql, profileJoinSql, segmentExpr } from './stage-sql.js';

/**
 * Retention cohorts: customers by the month (or quarter) of their first
 * purchase in the business zone, and per period offset since then how many
 * had a retention event. Semantics in the reference beside its declaration (queries/cohorts/reference.ts),
 * which the property tests hold this SQL to.
 *
 * Example body (POST /v1/cohorts):
 *   { "period": "month", "timeZone": "Europe/Berlin",
 *     "dateRange": { "from": "2025-01-01T00:00:00+01:00", "to": "2026-01-01T00:00:00+01:00" },
 *     "purchaseTypes": ["payment"], "retentionTypes": ["renewal", "upsell"], "offsets": 12,
 *     "segment": "purchaseChannel" }
 * A segment is either the channel/source/campaign of the customer's first
 * purchase event (purchaseChannel, purchaseSource, purchaseCampaign) or a
 * lead_profile key (businessUnit, channel = first-touch channel, ...), which
 * needs the configVersion whose profiles to read. "unit": "accounts" counts
 * buying groups, the accounts those profiles name (configVersion again).
 */

export const RETENTION_LIMITS = {
  /** Offsets 0..maxOffsets: ten years of months. */
  maxOffsets: 120,
  maxSegments: STAGE_QUERY_LIMITS.maxSegments,
  maxDateRangeDays: STAGE_QUERY_LIMITS.maxDateRangeDays,
  /** cohorts x segments x (offsets + 1) a query may return. */
  maxResultCells: 2_000_000,
  maxTimeoutSeconds: STAGE_QUERY_LIMITS.maxTimeoutSeconds,
} as const;

/** Segments taken from the first purchase event's envelope, by their touchpoints_resolved column. */
const PURCHASE_SEGMENT_COLUMNS = { purchaseSource: 'source', purchaseChannel: 'channel', purchaseCampaign: 'campaign' } as const;
type PurchaseSegmentKey = keyof typeof PURCHASE_SEGMENT_COLUMNS;
export const PURCHASE_SEGMENT_KEYS = Object.keys(PURCHASE_SEGMENT_COLUMNS) as PurchaseSegmentKey[];
const isPurchaseKey = (key: string): key is PurchaseSegmentKey => Object.hasOwn(PURCHASE_SEGMENT_COLUMNS, key);

const RETENTION_SEGMENT_KEYS = [...PURCHASE_SEGMENT_KEYS, ...SEGMENT_KEYS] as const;
const EventTypes = z.array(EventType).min(1).max(EVENT_TYPES.length);
/** Shortest length of a period, for the cohort-count limit. */
const PERIOD_MIN_DAYS = { month: 28, quarter: 90 } as const;
const DAY_MS = 86_400_000;

export const RetentionCohortsQuerySchema = z
  .strictObject({
    /** Cohort = the period of the first purchase, in timeZone; offsets count the same periods. */
    period: z.enum(RETENTION_PERIODS).default('month'),
    timeZone: TimeZoneSchema.default('UTC'),
    /** First purchases in [from, to) form the cohorts. */
    dateRange: DateRange,
    purchaseTypes: EventTypes.default(['payment']),
    retentionTypes: EventTypes.default(['renewal', 'upsell']),
    /** Offsets 0..offsets are reported. */
    offsets: z.number().int().min(0).max(RETENTION_LIMITS.maxOffsets).default(12),
    segment: z.enum(RETENTION_SEGMENT_KEYS, { error: `must be one of ${RETENTION_SEGMENT_KEYS.join(', ')}` }).optional(),
    /** The rule configuration whose lead profiles a profile segment reads. */
    configVersion: ConfigVersion.optional(),
    /** Segments returned: the largest by customers. */
    segmentLimit: z.number().int().min(1).max(RETENTION_LIMITS.maxSegments).default(50),
    /** leads (default): each actor is a customer; accounts: an account is one, from its first lead to buy (its profile names the account). */
    unit: z.enum(RETENTION_COUNTING_UNITS, { error: `must be one of ${RETENTION_COUNTING_UNITS.join(', ')}` }).default('leads'),
    /**
     * The instant the answer is as of (the caller's now, or a past instant): an offset whose period begins
     * after it is null, not 0, as it has not happened yet. Without it every offset counts.
     */
    asOf: OffsetDateTime.optional(),
    timeoutSeconds: TimeoutSeconds,
  })
  .superRefine(
    (q, ctx) => {
      if (typeof q.segment === 'string' && !isPurchaseKey(q.segment) && q.configVersion === undefined) {
        ctx.addIssue({ code: 'custom', path: ['configVersion'], message: `required with the profile segment "${q.segment}": the rule configuration whose lead profiles to read` });
      } else if (q.unit === 'accounts' && q.configVersion === undefined) {
        ctx.addIssue({ code: 'custom', path: ['configVersion'], message: 'required with unit "accounts": the rule configuration whose lead profiles name each lead\'s account' });
      }
      const range = q.dateRange as { from?: unknown; to?: unknown } | undefined;
      const span = typeof range?.from === 'string' && typeof range.to === 'string' ? Date.parse(range.to) - Date.parse(range.from) : Number.NaN;
      if (!(span > 0) || !Object.hasOwn(PERIOD_MIN_DAYS, q.period) || typeof q.offsets !== 'number') return;
      const cohorts = Math.ceil(span / (PERIOD_MIN_DAYS[q.period] * DAY_MS)) + 1;
      const segments = q.segment === undefined ? 1 : typeof q.segmentLimit === 'number' ? q.segmentLimit : 0;
      const cells = cohorts * segments * (q.offsets + 1);
      if (cells > RETENTION_LIMITS.maxResultCells) {
        ctx.addIssue({ code: 'custom', path: ['segmentLimit'], message: `cohorts x segments x offsets could reach ${cells} cells, at most ${RETENTION_LIMITS.maxResultCells}: lower segmentLimit or offsets, or ask a shorter range` });
      }
    },
    { when: () => true },
  );
export type RetentionCohortsQueryInput = z.input<typeof RetentionCohortsQuerySchema>;
export type RetentionCohortsQuery = z.output<typeof RetentionCohortsQuerySchema>;

/** Validates a retention cohorts query, naming every bad field (for a 400 problem+json). */
export const parseRetentionCohortsQuery = (input: unknown): Parsed<RetentionCohortsQuery> => parseWith(RetentionCohortsQuerySchema, input);

/** The normalised form the reference computes (the segment is applied by the caller). */
export function retentionSpecOf(q: RetentionCohortsQuery): RetentionSpec {
  return {
    period: q.period,
    timeZone: q.timeZone,
    fromMs: instantMs(q.dateRange.from),
    toMs: instantMs(q.dateRange.to),
    purchaseTypes: q.purchaseTypes,
    retentionTypes: q.retentionTypes,
    offsets: q.offsets,
    segmentLimit: q.segmentLimit,
    unit: q.unit,
    asOfMs: q.asOf === undefined ? undefined : instantMs(q.asOf),
  };
}

export interface RetentionCohortsResult {
  /** The query as validated, defaults filled in. */
  query: RetentionCohortsQuery;
  /** One row per (cohort period, segment) with customers, by period then segment. */
  cohorts: RetentionCohortRow[];
  /** Segments that had customers; more than returned when segmentLimit cut some. */
  segments: number;
  truncated: boolean;
}

interface SqlRow {
  period: string;
  period_label: string;
  segment: string;
  customers: number | string;
  retained: Array<number | string | null>;
  segments: number | string;
}

/**
 * How: per unit (an actor, or by account the account its profile names), its
 * first purchase (the smallest (time, position)) with the envelope and actor
 * of that event; the units whose first purchase is in range are the
 * customers. Their retention events at or after it (the purchase event itself
 * excepted) give DISTINCT (unit, offset) pairs, the offset a difference of
 * toRelativeMonthNum / toRelativeQuarterNum of the local dates. One
 * aggregation per (cohort, segment) counts the customers per offset. Only by
 * account are touchpoints joined to the profiles (a small right side: the
 * leads with an account).
 */
export function retentionCohortsSql(q: RetentionCohortsQuery, p: Params): string {
  const spec = retentionSpecOf(q);
  const tz = p.bind('time_zone', 'String', spec.timeZone);
  const rangeFrom = p.bind('range_from_ms', 'Int64', spec.fromMs);
  const rangeTo = p.bind('range_to_ms', 'Int64', spec.toMs);
  const relative = spec.period === 'month' ? 'toRelativeMonthNum' : 'toRelativeQuarterNum';
  const periodIndex = (ms: string) => `${relative}(fromUnixTimestamp64Milli(${ms}, 'UTC'), ${tz})`;
  // an offset whose period begins after the as-of instant has not happened: null, not 0
  const notYetBegun = spec.asOfMs === undefined ? 'false' : `cohort_index + k > ${periodIndex(p.bind('as_of_ms', 'Int64', spec.asOfMs))}`;
  const period = periodSql(spec.period, 'c.first_ms', p, spec.timeZone);
  const segment = q.segment === undefined ? `''` : isPurchaseKey(q.segment) ? `c.purchase_${PURCHASE_SEGMENT_COLUMNS[q.segment]}` : segmentExpr(q.segment as ProfileSegmentKey, p);
  const profile = q.segment !== undefined && !isPurchaseKey(q.segment) ? profileJoinSql(p, q.configVersion!, 'c.first_actor') : '';
  // touchpoints of some types with their unit: by account, joined to the leads whose profile names one ('~' never occurs in ids)
  const byAccount = spec.unit === 'accounts';
  const accounts = byAccount
    ? `LEFT JOIN (
        SELECT lead_id, account_id FROM (SELECT lead_id, account_id FROM lead_profile FINAL WHERE config_version = ${p.bind('config_version', 'String', q.configVersion!)})
        WHERE account_id != ''
      ) AS acc ON acc.lead_id = t.actor_id`
    : '';
  const unitsOf = (types: string, condition: string) => `
    SELECT ${byAccount ? `if(ifNull(acc.account_id, '') = '', t.actor_id, concat('account~', acc.account_id))` : 't.actor_id'} AS unit,
      t.actor_id AS actor_id, toUnixTimestamp64Milli(t.occurred_at) AS ms, t.occurred_at AS occurred_at, t.position AS position,
      t.source AS source, t.channel AS channel, t.campaign AS campaign
    FROM touchpoints_resolved AS t
    ${accounts}
    WHERE t.type IN ${types} AND ${condition}`;
  return `
    WITH
      customers AS (
        SELECT unit,
          min((ms, position)) AS first,
          tupleElement(first, 1) AS first_ms,
          tupleElement(first, 2) AS first_position,
          argMin((source, channel, campaign, actor_id), (ms, position)) AS envelope,
          tupleElement(envelope, 1) AS purchase_source,
          tupleElement(envelope, 2) AS purchase_channel,
          tupleElement(envelope, 3) AS purchase_campaign,
          tupleElement(envelope, 4) AS first_actor
        -- a first purchase at or after the range's end is out either way
        FROM (${unitsOf(p.bind('purchase_types', 'Array(String)', spec.purchaseTypes), `t.occurred_at < fromUnixTimestamp64Milli(${rangeTo}, 'UTC')`)})
        GROUP BY unit
        HAVING first_ms >= ${rangeFrom}
      ),
      retained AS (
        SELECT unit, groupUniqArray(period_offset) AS offsets
        FROM (
          SELECT r.unit AS unit,
            ${relative}(r.occurred_at, ${tz}) - ${periodIndex('c.first_ms')} AS period_offset
          FROM (${unitsOf(p.bind('retention_types', 'Array(String)', spec.retentionTypes), `t.occurred_at >= fromUnixTimestamp64Milli(${rangeFrom}, 'UTC')`)}) AS r
          INNER JOIN customers AS c ON c.unit = r.unit
          WHERE r.ms >= c.first_ms AND r.position != c.first_position
        )
        WHERE period_offset <= ${p.bind('max_offset', 'Int64', spec.offsets)}
        GROUP BY unit
      )
    SELECT period, period_label, segment, customers, retained, segments
    FROM (
      SELECT *, max(segment_rank) OVER () AS segments
      FROM (
        SELECT *, dense_rank() OVER (ORDER BY segment_total DESC, segment) AS segment_rank
        FROM (
          SELECT period, period_label, segment,
            count() AS customers,
            groupArrayArray(offsets) AS customer_offsets,
            any(first_index) AS cohort_index,
            arrayMap(k -> if(${notYetBegun}, NULL, countEqual(customer_offsets, k)), range(${p.bind('offset_count', 'UInt32', spec.offsets + 1)})) AS retained,
            sum(count()) OVER (PARTITION BY segment) AS segment_total
          FROM (
            SELECT toString(${period.start}) AS period, ${period.label} AS period_label, ${segment} AS segment, ret.offsets AS offsets,
              ${periodIndex('c.first_ms')} AS first_index
            FROM customers AS c
            LEFT JOIN retained AS ret ON ret.unit = c.unit
            ${profile}
          )
          GROUP BY period, period_label, segment
        )
      )
    )
    WHERE segment_rank <= ${p.bind('segment_limit', 'UInt32', q.segmentLimit)}
    ORDER BY period, segment
    ${settingsClause({ max_execution_time: q.timeoutSeconds })}`;
}

/** Runs a retention cohorts query (validated here too; the API validates first to report field errors). */
export async function runRetentionCohorts(client: AnalyticsClient, input: RetentionCohortsQuery | RetentionCohortsQueryInput): Promise<RetentionCohortsResult> {
  const q = RetentionCohortsQuerySchema.parse(input);
  const p = new Params();
  const rows = await client.rows<SqlRow>(retentionCohortsSql(q, p), p.values);
  const segments = Number(rows[0]?.segments ?? 0);
  return {
    query: q,
    cohorts: rows.map((r) => {
      const customers = Number(r.customers);
      const retained = r.retained.map((n) => (n === null ? null : Number(n)));
      return { period: r.period, periodLabel: r.period_label, segment: r.segment, customers, retained, rates: retained.map((n) => (n === null ? null : n / customers)) };
    }),
    segments,
    truncated: segments > q.segmentLimit,
  };
}
