import type { StageConversionRow } from '@sluice/domain';
import type { AnalyticsClient } from './client.js';
import { settingsClause } from './client.js';
import { Params } from './funnel-sql.js';
import type { StageConversionQuery, StageConversionQueryInput } from './stage-queries.js';
import { StageConversionQuerySchema, stageConversionSpecOf } from './stage-queries.js';
import { periodSql, profileFilterSql, profileJoinSql, segmentExpr, sideStateLeadsSql, stageFactsSql } from './stage-sql.js';

/**
 * Stage conversion in ClickHouse: for each pair (from, to), cohort period of
 * entering `from` (in the business zone) and segment, how many entered, how
 * many reached `to` (within the window), and how long it took. Semantics in
 * @sluice/domain reference/stage-conversion.ts, which property tests hold
 * this SQL to.
 *
 * How: the config's current stage facts, grouped per lead into arrays (a lead
 * has at most one fact per stage); ARRAY JOIN over the pairs pairs each lead's
 * `from` with its `to` without a self-join; then one aggregation per (pair,
 * period, segment). By account, facts are first joined to lead_profile
 * (account, filters) and folded per account and stage; by lead no join comes
 * before the pairing. Side states are looked up in the (small) set of leads
 * in one; segments join the profile after pairing. Segments are ranked by cohort entries over the whole
 * result and cut at segmentLimit in SQL, so a high-cardinality segment
 * (campaign) never ships every group.
 */

export interface StageConversionResult {
  pairs: Array<{ from: string; to: string }>;
  /** One row per (pair, period, segment) with entries; sorted by pair, period, segment. */
  rows: StageConversionRow[];
  /** Segments that had entries; more than returned when segmentLimit cut some. */
  segments: number;
  truncated: boolean;
}

interface SqlRow {
  pair: number | string;
  period: string;
  period_label: string;
  segment: string;
  entered: number | string;
  converted: number | string;
  skipped_from: number | string;
  disqualified: number | string;
  recycled: number | string;
  open_leads: number | string;
  sum_ms: number | string;
  median_ms: number | null;
  p90_ms: number | null;
  segments: number | string;
}

export function stageConversionSql(q: StageConversionQuery, p: Params): string {
  const spec = stageConversionSpecOf(q);
  const pairFrom = p.bind('pair_from', 'Array(String)', spec.pairs.map((x) => x.from));
  const pairTo = p.bind('pair_to', 'Array(String)', spec.pairs.map((x) => x.to));
  const stages = [...new Set(spec.pairs.flatMap((x) => [x.from, x.to]))];
  const facts = stageFactsSql(p, q.configVersion, stages, spec.asOfMs);
  const period = periodSql(spec.period, 'from_ms', p, spec.timeZone);
  const byAccount = q.unit === 'account';
  const segment = q.segment === undefined ? `''` : segmentExpr(q.segment, p);
  const filters = profileFilterSql(q.filters, p);
  const window = spec.windowMs === undefined ? undefined : p.bind('window_ms', 'Int64', spec.windowMs);
  const asOf = spec.asOfMs === undefined ? undefined : p.bind('as_of_ms', 'Int64', spec.asOfMs);
  const converted = `has_to AND to_ms >= from_ms${window === undefined ? '' : ` AND to_ms - from_ms <= ${window}`}`;
  // open: not converted, window still running at asOf (only with both)
  const open = window !== undefined && asOf !== undefined ? `NOT conv AND from_ms + ${window} > ${asOf}` : 'false';
  // the leads in a side state as the projector recorded it, begun by asOf: a small right side, so cheaper than joining every profile
  const sideJoin = `LEFT JOIN (${sideStateLeadsSql(p, q.configVersion, asOf)}) AS side ON side.lead_id = f.lead_id`;
  const sideFlags = (prefix: string) => `toUInt8(ifNull(side.side_state, '') = 'disqualified') AS ${prefix}_disqualified, toUInt8(ifNull(side.side_state, '') = 'recycled') AS ${prefix}_recycled`;
  // By lead, each lead is its own unit (a fact per stage already). By account, facts are joined to profiles first (the account, and
  // filters pick leads before they are grouped) and folded per (account, stage): the first lead's time, skipped only when every lead
  // reaching it then skipped it, and that lead (the smaller id on a tie) for the segment. '~' never occurs in ids, so an account never
  // collides with a lead counted as its own account.
  const unitStages = byAccount
    ? `SELECT unit, stage, min(ms) AS first_ms, argMin(skipped, (ms, skipped)) AS first_skipped, argMin(lead_id, (ms, lead_id)) AS first_lead,
          min(lead_disqualified) AS unit_disqualified, min(lead_recycled) AS unit_recycled
        FROM (
          SELECT f.lead_id AS lead_id, f.stage AS stage, f.ms AS ms, f.skipped AS skipped, ${sideFlags('lead')},
            if(ifNull(prof.account_id, '') = '', f.lead_id, concat('account~', prof.account_id)) AS unit
          FROM (${facts}) AS f
          ${sideJoin}
          ${profileJoinSql(p, q.configVersion, 'f.lead_id')}
          ${filters.length === 0 ? '' : `WHERE ${filters.join(' AND ')}`}
        )
        GROUP BY unit, stage`
    : `SELECT f.lead_id AS unit, f.stage AS stage, f.ms AS first_ms, f.skipped AS first_skipped, f.lead_id AS first_lead, ${sideFlags('unit')}
        FROM (${facts}) AS f
        ${sideJoin}`;
  // segments (and, by lead, filters) read the profile of the unit's first lead into `from`, joined after pairing
  const profileAfter = q.segment !== undefined || (!byAccount && filters.length > 0);
  const conditions = [`from_ms >= ${p.bind('range_from_ms', 'Int64', spec.fromMs)}`, `from_ms < ${p.bind('range_to_ms', 'Int64', spec.toMs)}`, ...(byAccount ? [] : filters)];
  return `
    SELECT pair, period, period_label, segment, entered, converted, skipped_from, disqualified, recycled, open_leads, sum_ms, median_ms, p90_ms, segments
    FROM (
      SELECT *, max(segment_rank) OVER () AS segments
      FROM (
        SELECT *, dense_rank() OVER (ORDER BY segment_total DESC, segment) AS segment_rank
        FROM (
          SELECT pair, period, period_label, segment,
            count() AS entered,
            countIf(conv) AS converted,
            countIf(from_skipped) AS skipped_from,
            countIf(left_early AND all_disqualified) AS disqualified,
            countIf(left_early AND all_recycled) AS recycled,
            countIf(still_open) AS open_leads,
            sumIf(to_ms - from_ms, conv) AS sum_ms,
            if(converted = 0, NULL, quantileExactInclusiveIf(0.5)(to_ms - from_ms, conv)) AS median_ms,
            if(converted = 0, NULL, quantileExactInclusiveIf(0.9)(to_ms - from_ms, conv)) AS p90_ms,
            sum(count()) OVER (PARTITION BY segment) AS segment_total
          FROM (
            SELECT pair, from_ms, to_ms, from_skipped, all_disqualified, all_recycled,
              ${converted} AS conv,
              NOT has_to OR to_ms < from_ms AS left_early,
              ${open} AS still_open,
              toString(${period.start}) AS period,
              ${period.label} AS period_label,
              ${segment} AS segment
            FROM (
              SELECT unit, pair, all_disqualified, all_recycled,
                indexOf(stages, ${pairFrom}[pair]) AS fi,
                indexOf(stages, ${pairTo}[pair]) AS ti,
                mss[fi] AS from_ms, skips[fi] AS from_skipped, leads[fi] AS from_lead,
                ti > 0 AS has_to, if(ti > 0, mss[ti], 0) AS to_ms
              FROM (
                SELECT unit, groupArray(stage) AS stages, groupArray(first_ms) AS mss, groupArray(first_skipped) AS skips, groupArray(first_lead) AS leads,
                  min(unit_disqualified) = 1 AS all_disqualified, min(unit_recycled) = 1 AS all_recycled
                FROM (${unitStages})
                GROUP BY unit
              )
              ARRAY JOIN arrayEnumerate(${pairFrom}) AS pair
              WHERE fi > 0
            ) AS x
            ${profileAfter ? profileJoinSql(p, q.configVersion, 'x.from_lead') : ''}
            WHERE ${conditions.join(' AND ')}
          )
          GROUP BY pair, period, period_label, segment
        )
      )
    )
    WHERE segment_rank <= ${p.bind('segment_limit', 'UInt32', q.segmentLimit)}
    ORDER BY pair, period, segment
    ${settingsClause({ max_execution_time: q.timeoutSeconds })}`;
}

/** Runs a stage conversion query (validated here too; the API validates first to report field errors). */
export async function runStageConversion(client: AnalyticsClient, input: StageConversionQuery | StageConversionQueryInput): Promise<StageConversionResult> {
  const q = StageConversionQuerySchema.parse(input);
  const spec = stageConversionSpecOf(q);
  const p = new Params();
  const rows = await client.rows<SqlRow>(stageConversionSql(q, p), p.values);
  const withOpen = spec.windowMs !== undefined && spec.asOfMs !== undefined;
  const segments = Number(rows[0]?.segments ?? 0);
  return {
    pairs: [...spec.pairs],
    rows: rows.map((r) => {
      const index = Number(r.pair) - 1;
      const entered = Number(r.entered);
      const converted = Number(r.converted);
      return {
        pair: index,
        from: spec.pairs[index]!.from,
        to: spec.pairs[index]!.to,
        period: r.period,
        periodLabel: r.period_label,
        segment: r.segment,
        entered,
        converted,
        rate: converted / entered,
        skippedFrom: Number(r.skipped_from),
        disqualified: Number(r.disqualified),
        recycled: Number(r.recycled),
        open: withOpen ? Number(r.open_leads) : null,
        // an exact Int64 sum divided here, as the reference divides its own
        meanMs: converted === 0 ? null : Number(r.sum_ms) / converted,
        medianMs: r.median_ms === null ? null : Number(r.median_ms),
        p90Ms: r.p90_ms === null ? null : Number(r.p90_ms),
      };
    }),
    segments,
    truncated: segments > q.segmentLimit,
  };
}
