import type { CloseRateCounts, CloseRateReport } from './queries/close-rates/reference.js';
import { closeRateReport } from './queries/close-rates/reference.js';
import type { AnalyticsClient } from './client.js';
import { settingsClause } from './client.js';
import { Params } from './funnel-sql.js';
import type { ActivityCloseRatesQuery, ActivityCloseRatesQueryInput } from './stage-queries.js';
import { ActivityCloseRatesQuerySchema, closeRateOptionsOf, closeRateSpecOf } from './stage-queries.js';
import { stageFactsSql } from './stage-sql.js';

/**
 * Closed-loop activity close rates (docs/domain.md, "Closed-loop
 * calibration"): ClickHouse counts, per activity, the population's leads who
 * did it before becoming customers and how many became customers;
 * closeRateReport (@sluice/domain) adds rates, Wilson intervals, lift, ranks
 * and the suggestions. Count semantics: queries/close-rates/reference.ts.
 *
 * Touchpoints come from touchpoints_resolved (anonymous history resolved to
 * its lead), joined on the actor id the projector writes as
 * stage_transitions.lead_id. One query: the population totals ride as a
 * marked row next to the activity rows, so both see the same data.
 */

export interface ActivityCloseRatesResult extends CloseRateReport {
  /** True when more activities existed than activityLimit (the most-done were kept). */
  truncated: boolean;
}

interface SqlRow {
  total_row: number | string | boolean;
  type: string;
  value: string;
  leads: number | string;
  customers: number | string;
}

export function closeRateCountsSql(q: ActivityCloseRatesQuery, p: Params): string {
  const spec = closeRateSpecOf(q);
  const facts = stageFactsSql(p, q.configVersion, [spec.populationStage, spec.customerStage], spec.asOfMs);
  const population = p.bind('population_stage', 'String', spec.populationStage);
  const customer = p.bind('customer_stage', 'String', spec.customerStage);
  const value = spec.property === undefined ? `''` : `t.props[${p.bind('property', 'String', spec.property)}]`;
  const conditions = ['(NOT m.is_customer OR toUnixTimestamp64Milli(t.occurred_at) < m.customer_ms)'];
  if (spec.asOfMs !== undefined) conditions.push(`t.occurred_at <= fromUnixTimestamp64Milli(${p.bind('as_of_ms', 'Int64', spec.asOfMs)}, 'UTC')`);
  if (spec.types !== undefined) conditions.push(`t.type IN ${p.bind('types', 'Array(String)', spec.types)}`);
  return `
    WITH
      facts AS (${facts}),
      members AS (
        SELECT lead_id, countIf(stage = ${customer}) > 0 AS is_customer, maxIf(ms, stage = ${customer}) AS customer_ms
        FROM facts
        GROUP BY lead_id
        HAVING countIf(stage = ${population} AND ms >= ${p.bind('range_from_ms', 'Int64', spec.fromMs)} AND ms < ${p.bind('range_to_ms', 'Int64', spec.toMs)}) > 0
      )
    SELECT * FROM (
      SELECT true AS total_row, '' AS type, '' AS value, count() AS leads, countIf(is_customer) AS customers
      FROM members
      UNION ALL
      SELECT * FROM (
        SELECT false AS total_row, type, value, count() AS leads, countIf(is_customer) AS customers
        FROM (
          SELECT DISTINCT t.actor_id AS lead_id, t.type AS type, ${value} AS value, m.is_customer AS is_customer
          FROM touchpoints_resolved AS t
          INNER JOIN members AS m ON m.lead_id = t.actor_id
          WHERE ${conditions.join(' AND ')}
        )
        GROUP BY type, value
        ORDER BY leads DESC, type, value
        LIMIT ${p.bind('activity_limit', 'UInt32', spec.activityLimit! + 1)}
      )
    )
    ${settingsClause({ max_execution_time: q.timeoutSeconds })}`;
}

/** A Bool column as either backend returns it. */
export const isTrue = (v: boolean | number | string) => v === true || v === 1 || v === '1' || v === 'true';

/** Counts from ClickHouse, in the reference's shape (activities by leads desc, type, value). */
export async function activityCloseRateCounts(client: AnalyticsClient, q: ActivityCloseRatesQuery): Promise<CloseRateCounts & { truncated: boolean }> {
  const p = new Params();
  const rows = await client.rows<SqlRow>(closeRateCountsSql(q, p), p.values);
  const total = rows.find((r) => isTrue(r.total_row));
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const activities = rows
    .filter((r) => !isTrue(r.total_row))
    .map((r) => ({ type: r.type, value: r.value, leads: Number(r.leads), customers: Number(r.customers) }))
    .sort((x, y) => y.leads - x.leads || compare(x.type, y.type) || compare(x.value, y.value));
  return {
    leads: Number(total?.leads ?? 0),
    customers: Number(total?.customers ?? 0),
    activities: activities.slice(0, q.activityLimit),
    truncated: activities.length > q.activityLimit,
  };
}

/** Activity close rates, ranked, with MQL-rule and score-weight suggestions (validated here too). */
export async function runActivityCloseRates(client: AnalyticsClient, input: ActivityCloseRatesQuery | ActivityCloseRatesQueryInput): Promise<ActivityCloseRatesResult> {
  const q = ActivityCloseRatesQuerySchema.parse(input);
  const { truncated, ...counts } = await activityCloseRateCounts(client, q);
  return { ...closeRateReport(counts, closeRateOptionsOf(q)), truncated };
}
