import type { StageConversionRow } from '@sluice/domain';
import type { AnalyticsClient } from './client.js';
import { settingsClause } from './client.js';
import { Params } from './funnel-sql.js';
import type { StageConversionQuery, StageConversionQueryInput } from './stage-queries.js';
import { StageConversionQuerySchema, stageConversionSpecOf } from './stage-queries.js';
import { periodSql, profileFilterSql, profileJoinSql, segmentExpr, stageFactsSql } from './stage-sql.js';

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
 * period, segment). Facts are first joined to lead_profile (segment,
 * filters, account, side state) and folded per counting unit (the lead, or
 * its account), so both units share one path. Segments are ranked by cohort entries over the whole
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
  const segment = q.segment === undefined ? `''` : segmentExpr(q.segment, p);
  const filters = profileFilterSql(q.filters, p);
  const window = spec.windowMs === undefined ? undefined : p.bind('window_ms', 'Int64', spec.windowMs);
  const asOf = spec.asOfMs === undefined ? undefined : p.bind('as_of_ms', 'Int64', spec.asOfMs);
  const converted = `has_to AND to_ms >= from_ms${window === undefined ? '' : ` AND to_ms - from_ms <= ${window}`}`;
  // open: not converted, window still running at asOf (only with both)
  const open = window !== undefined && asOf !== undefined ? `NOT conv AND from_ms + ${window} > ${asOf}` : 'false';
  // the side state the projector recorded, when it had begun by asOf
  const inSide = (state: string) => `ifNull(prof.side_state, '') = '${state}'${asOf === undefined ? '' : ` AND toUnixTimestamp64Milli(ifNull(prof.side_since, toDateTime64(0, 3, 'UTC'))) <= ${asOf}`}`;
  // '~' never occurs in ids: an account never collides with a lead counted as its own account
  const unit = q.unit === 'account' ? `if(ifNull(prof.account_id, '') = '', f.lead_id, concat('account~', prof.account_id))` : 'f.lead_id';
  return `
    SELECT pair, period, period_label, segment, entered, converted, skipped_from, disqualified, recycled, open_leads, median_ms, p90_ms, segments
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
              segment
            FROM (
              SELECT unit, pair, all_disqualified, all_recycled,
                indexOf(stages, ${pairFrom}[pair]) AS fi,
                indexOf(stages, ${pairTo}[pair]) AS ti,
                mss[fi] AS from_ms, skips[fi] AS from_skipped, segs[fi] AS segment,
                ti > 0 AS has_to, if(ti > 0, mss[ti], 0) AS to_ms
              FROM (
                SELECT unit, groupArray(stage) AS stages, groupArray(first_ms) AS mss, groupArray(first_skipped) AS skips, groupArray(first_segment) AS segs,
                  min(stage_disqualified) = 1 AS all_disqualified, min(stage_recycled) = 1 AS all_recycled
                FROM (
                  -- a unit enters a stage with its first lead (ties: skipped only if every such lead skipped; the segment of the smaller lead id)
                  SELECT unit, stage, min(ms) AS first_ms, argMin(skipped, (ms, skipped)) AS first_skipped, argMin(lead_segment, (ms, lead_id)) AS first_segment,
                    min(disqualified_now) AS stage_disqualified, min(recycled_now) AS stage_recycled
                  FROM (
                    SELECT f.lead_id AS lead_id, f.stage AS stage, f.ms AS ms, f.skipped AS skipped, ${unit} AS unit, ${segment} AS lead_segment,
                      toUInt8(${inSide('disqualified')}) AS disqualified_now, toUInt8(${inSide('recycled')}) AS recycled_now
                    FROM (${facts}) AS f
                    ${profileJoinSql(p, q.configVersion, 'f.lead_id')}
                    ${filters.length === 0 ? '' : `WHERE ${filters.join(' AND ')}`}
                  )
                  GROUP BY unit, stage
                )
                GROUP BY unit
              )
              ARRAY JOIN arrayEnumerate(${pairFrom}) AS pair
              WHERE fi > 0
            )
            WHERE from_ms >= ${p.bind('range_from_ms', 'Int64', spec.fromMs)} AND from_ms < ${p.bind('range_to_ms', 'Int64', spec.toMs)}
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
        medianMs: r.median_ms === null ? null : Number(r.median_ms),
        p90Ms: r.p90_ms === null ? null : Number(r.p90_ms),
      };
    }),
    segments,
    truncated: segments > q.segmentLimit,
  };
}
