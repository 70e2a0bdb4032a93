import { z } from 'zod';
import type { CostPeriod, CostSpec, CostTally, PricedCost } from '@sluice/domain';
import { ATTRIBUTION_MODELS, COHORT_PERIODS, COST_COUNT_OF, COST_GROUP_KEYS, COST_STAGE_ROLES, CostTallyBook, REVENUE_TYPES, addAmount, costPeriods, instantMs, priceCost } from '@sluice/domain';
import { BusinessUnitsSchema, CurrenciesSchema, StageIdSchema, TimeZoneSchema } from '@sluice/schemas';
import type { AnalyticsClient } from './client.js';
import { settingsClause } from './client.js';
import { Params } from './funnel-sql.js';
import type { Parsed } from './stage-queries.js';
import { ConfigVersion, DateRange, STAGE_QUERY_LIMITS, TimeoutSeconds, parseWith } from './stage-queries.js';
import { profileJoinSql, stageFactsSql } from './stage-sql.js';

/**
 * The cost report: spend and return per source, channel, campaign or
 * business unit and period. Semantics in @sluice/domain reference/cost.ts,
 * which the tests hold this SQL to. ClickHouse sums per currency; prices and
 * ratios (and what is left out unconverted) are computed by the reference's
 * own priceCost, so both share them.
 *
 * Example body (POST /v1/reports/cost; configVersion, stages, timeZone,
 * businessUnits and currencies default to the server's rules):
 *   { "dateRange": { "from": "2026-01-01T00:00:00+01:00", "to": "2026-04-01T00:00:00+02:00" },
 *     "period": "month", "groupBy": "source", "attribution": "last_touch" }
 */

const Stages = z.strictObject({ lead: StageIdSchema, mql: StageIdSchema, sql: StageIdSchema, customer: StageIdSchema });
const DAY_MS = 86_400_000;
const PERIOD_MIN_DAYS = { day: 1, week: 7, month: 28, quarter: 90, year: 365, all: Number.POSITIVE_INFINITY } as const;

export const CostReportQuerySchema = z
  .strictObject({
    configVersion: ConfigVersion,
    /** the stages counted as leads, MQLs, SQLs and customers */
    stages: Stages,
    timeZone: TimeZoneSchema.default('UTC'),
    dateRange: DateRange,
    period: z.enum(COHORT_PERIODS).default('month'),
    groupBy: z.enum(COST_GROUP_KEYS).default('source'),
    attribution: z.enum(ATTRIBUTION_MODELS).default('first_touch'),
    revenueTypes: z.array(z.enum(REVENUE_TYPES)).min(1).default(['payment']),
    /** how spend rows name their business unit (as the rules resolve a lead's) */
    businessUnits: BusinessUnitsSchema,
    /** the report currency and rates; absent: every amount must be in one currency */
    currencies: CurrenciesSchema.optional(),
    timeoutSeconds: TimeoutSeconds,
  })
  .superRefine(
    (q, ctx) => {
      const stages = typeof q.stages === 'object' && q.stages !== null ? Object.entries(q.stages) : [];
      const seen = new Map<unknown, string>();
      for (const [role, stage] of stages) {
        const other = seen.get(stage);
        if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['stages', role], message: `"${String(stage)}" is already the ${other} stage` });
        seen.set(stage, role);
      }
      const range = q.dateRange as { from?: unknown; to?: unknown } | undefined;
      const span = typeof range?.from === 'string' && typeof range.to === 'string' ? Date.parse(range.to) - Date.parse(range.from) : Number.NaN;
      if (!(span > 0) || !Object.hasOwn(PERIOD_MIN_DAYS, q.period)) return;
      const periods = Math.ceil(span / (PERIOD_MIN_DAYS[q.period] * DAY_MS)) + 1;
      if (periods > STAGE_QUERY_LIMITS.maxPeriods) {
        ctx.addIssue({ code: 'custom', path: ['period'], message: `the date range holds up to ${periods} ${q.period} periods, at most ${STAGE_QUERY_LIMITS.maxPeriods}: choose a longer period or a shorter range` });
      }
    },
    { when: () => true },
  );
export type CostReportQueryInput = z.input<typeof CostReportQuerySchema>;
export type CostReportQuery = z.output<typeof CostReportQuerySchema>;

export const parseCostReportQuery = (input: unknown): Parsed<CostReportQuery> => parseWith(CostReportQuerySchema, input);

export function costSpecOf(q: CostReportQuery): CostSpec {
  return {
    fromMs: instantMs(q.dateRange.from),
    toMs: instantMs(q.dateRange.to),
    period: q.period,
    timeZone: q.timeZone,
    groupBy: q.groupBy,
    attribution: q.attribution,
    stages: q.stages,
    revenueTypes: q.revenueTypes,
  };
}

export interface CostReportResult extends PricedCost {
  /** the validated query (attribution stated with it) */
  query: CostReportQuery;
}

interface SqlRow {
  period_index: number | string;
  segment: string;
  measure: string;
  currency: string;
  /** null: a sum that overflowed (ClickHouse writes inf as null in JSON) */
  amount: number | null;
  n: number | string;
}

/** The lead_profile column of a group key. */
const PROFILE_COLUMNS = { source: 'source', channel: 'channel', campaign: 'campaign', businessUnit: 'business_unit' } as const;
/** A sourced touch as stored in the per-lead array: (ms, position, source, channel, campaign). */
const TOUCH_FIELD = { source: 3, channel: 4, campaign: 5 } as const;

/**
 * How: the periods are cut in TypeScript (costPeriods: the zone's calendar)
 * and bound as arrays of start and end instants, so SQL only compares
 * milliseconds. Spend rows meet every period (arrayJoin) and keep their
 * overlapping share, counted as an event in the first period they meet; stage entries and revenue events fall in the period
 * whose start is the last one at or before them. For last touch each lead
 * carries its sourced touches sorted by (time, position), and arrayLast picks
 * the latest one at or before the instant counted. One UNION ALL returns
 * sums per (period, segment, measure, currency).
 */
export function costReportSql(q: CostReportQuery, periods: readonly CostPeriod[], p: Params): string {
  const spec = costSpecOf(q);
  const starts = p.bind('period_starts', 'Array(Int64)', periods.map((x) => x.startMs));
  const ends = p.bind('period_ends', 'Array(Int64)', periods.map((x) => x.endMs));
  const from = p.bind('range_from_ms', 'Int64', spec.fromMs);
  const to = p.bind('range_to_ms', 'Int64', spec.toMs);
  const periodOf = (ms: string) => `arrayCount(s -> s <= ${ms}, ${starts})`;
  const inRange = (ms: string) => `${ms} >= ${from} AND ${ms} < ${to}`;

  const unitNames: string[] = [];
  const unitIds: string[] = [];
  for (const u of q.businessUnits.units) {
    for (const name of [u.id, ...u.aliases]) {
      unitNames.push(name.toLowerCase());
      unitIds.push(u.id);
    }
  }
  const spendSegment =
    spec.groupBy === 'businessUnit'
      ? `transform(lowerUTF8(props['businessUnit']), ${p.bind('unit_names', 'Array(String)', unitNames)}, ${p.bind('unit_ids', 'Array(String)', unitIds)}, ${p.bind('default_unit', 'String', q.businessUnits.default)})`
      : spec.groupBy;

  // the segment of a lead at an instant (ms), over the profile join `prof` and the touches join `lt`
  const leadSegment = (ms: string) =>
    spec.groupBy === 'businessUnit' || spec.attribution === 'first_touch'
      ? `ifNull(prof.${PROFILE_COLUMNS[spec.groupBy]}, '')`
      : `tupleElement(arrayLast(t -> tupleElement(t, 1) <= ${ms}, lt.touches), ${TOUCH_FIELD[spec.groupBy]})`;
  const touches =
    spec.attribution === 'last_touch' && spec.groupBy !== 'businessUnit'
      ? `LEFT JOIN (
          SELECT lead_id, arraySort(t -> (tupleElement(t, 1), tupleElement(t, 2)), groupArray((toUnixTimestamp64Milli(occurred_at), position, source, channel, campaign))) AS touches
          FROM touchpoints_resolved
          WHERE lead_id != '' AND source != ''
          GROUP BY lead_id
        ) AS lt ON lt.lead_id = %LEAD%`
      : '';
  const joinsOn = (leadId: string) => `${profileJoinSql(p, q.configVersion, leadId)} ${touches.replace('%LEAD%', leadId)}`;
  const stageIds = COST_STAGE_ROLES.map((role) => q.stages[role]);

  return `
    SELECT period_index, segment, 'spend' AS measure, currency, sum(share) AS amount, countIf(period_index = first_index) AS n
    FROM (
      SELECT arrayJoin(arrayEnumerate(${starts})) AS period_index, segment, currency,
        greatest(0, least(end_ms, arrayElement(${ends}, period_index)) - greatest(start_ms, arrayElement(${starts}, period_index))) AS overlap,
        amount * toFloat64(overlap) / toFloat64(end_ms - start_ms) AS share,
        ${periodOf(`greatest(start_ms, ${from})`)} AS first_index
      FROM (
        SELECT ${spendSegment} AS segment, props['currency'] AS currency, toFloat64(props['amount']) AS amount,
          toUnixTimestamp64Milli(parseDateTime64BestEffort(props['periodStart'], 3, 'UTC')) AS start_ms,
          toUnixTimestamp64Milli(parseDateTime64BestEffort(props['periodEnd'], 3, 'UTC')) AS end_ms
        FROM touchpoints FINAL
        WHERE type = 'spend'
      )
      WHERE start_ms < ${to} AND end_ms > ${from}
    )
    WHERE overlap > 0
    GROUP BY period_index, segment, currency
    UNION ALL
    SELECT ${periodOf('f.ms')} AS period_index, ${leadSegment('f.ms')} AS segment, f.stage AS measure, '' AS currency, toFloat64(0) AS amount, count() AS n
    FROM (${stageFactsSql(p, q.configVersion, stageIds, undefined)}) AS f
    ${joinsOn('f.lead_id')}
    WHERE ${inRange('f.ms')}
    GROUP BY period_index, segment, measure
    UNION ALL
    SELECT ${periodOf('r.ms')} AS period_index, ${leadSegment('r.ms')} AS segment, 'revenue' AS measure, r.currency AS currency, sum(r.amount) AS amount, count() AS n
    FROM (
      SELECT lead_id, toUnixTimestamp64Milli(occurred_at) AS ms, props['currency'] AS currency, toFloat64(props['amount']) AS amount
      FROM touchpoints_resolved
      WHERE type IN ${p.bind('revenue_types', 'Array(String)', spec.revenueTypes)} AND lead_id != ''
    ) AS r
    ${joinsOn('r.lead_id')}
    WHERE ${inRange('r.ms')}
    GROUP BY period_index, segment, currency
    ${settingsClause({ max_execution_time: q.timeoutSeconds })}`;
}

/** Per-currency sums of the SQL rows, in the reference's shape (sorted by period, then segment). */
function talliesOf(rows: readonly SqlRow[], periods: readonly CostPeriod[], q: CostReportQuery): CostTally[] {
  const roleOf = new Map(COST_STAGE_ROLES.map((role) => [q.stages[role], role]));
  const book = new CostTallyBook();
  for (const r of rows) {
    const t = book.at(periods[Number(r.period_index) - 1]!, r.segment);
    if (r.measure === 'spend' || r.measure === 'revenue') {
      addAmount(t[r.measure], r.currency, r.amount === null ? Number.POSITIVE_INFINITY : Number(r.amount));
      // a spend row's later periods carry its amount and no event
      if (Number(r.n) > 0) addAmount(t.events[r.measure], r.currency, Number(r.n));
    } else t[COST_COUNT_OF[roleOf.get(r.measure)!]] += Number(r.n);
  }
  return book.sorted();
}

/** Per-currency sums before prices (what the reference's costTallies computes). */
export async function costReportTallies(client: AnalyticsClient, q: CostReportQuery): Promise<CostTally[]> {
  const spec = costSpecOf(q);
  const periods = costPeriods(spec.fromMs, spec.toMs, spec.period, spec.timeZone);
  const p = new Params();
  return talliesOf(await client.rows<SqlRow>(costReportSql(q, periods, p), p.values), periods, q);
}

/** Runs the cost report; amounts it cannot convert are listed in `excluded`, never a reason to fail. */
export async function runCostReport(client: AnalyticsClient, input: CostReportQuery | CostReportQueryInput): Promise<CostReportResult> {
  const q = CostReportQuerySchema.parse(input);
  return { query: q, ...priceCost(await costReportTallies(client, q), q.currencies) };
}
