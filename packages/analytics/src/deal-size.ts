import { z } from 'zod';
import { instantMs } from '@sluice/domain';
import { Currency, Label, StageIdSchema } from '@sluice/schemas';
import type { AnalyticsClient } from './client.js';
import { settingsClause } from './client.js';
import { Params } from './funnel-sql.js';
import { ConfigVersion, DateRange, TimeoutSeconds, parseWith } from './stage-queries.js';
import type { Parsed } from './stage-queries.js';
import { stageFactsSql } from './stage-sql.js';

/**
 * The average deal size a reverse plan divides revenue by, measured from
 * payments (docs/domain.md, "Planning backward from revenue"):
 *
 * - A deal is a lead (actor) that entered the customer stage in the date range.
 * - Its size is the sum of its `payment` amounts from the moment it became a
 *   customer to `revenueWindowDays` later (inclusive): the first billing of
 *   the deal (a quote accepted, then invoiced and paid, lands in it). Renewals
 *   and upsells are retention, not new deals, and are not counted.
 * - Amounts keep their currency: a deal is sized per currency and deals in
 *   other currencies than the one asked are reported, never summed with it.
 *   Without `currency`, the one currency the deals were paid in is used; if
 *   there are several the answer says so (`currency: null`) and the caller
 *   must choose.
 * - A deal with no payment in its window has no measurable size: it is counted
 *   in `withoutPayments` and left out of the average.
 */
export const DealSizeQuerySchema = z.strictObject({
  configVersion: ConfigVersion,
  customerStage: StageIdSchema,
  /** Deals: entries into customerStage in [from, to). */
  dateRange: DateRange,
  /** Only deals of this business unit (lead_profile); absent: every unit. */
  businessUnit: Label.optional(),
  currency: Currency.optional(),
  revenueWindowDays: z.number().int().min(0).max(3650).default(90),
  timeoutSeconds: TimeoutSeconds,
});
export type DealSizeQueryInput = z.input<typeof DealSizeQuerySchema>;
export type DealSizeQuery = z.output<typeof DealSizeQuerySchema>;

export const parseDealSizeQuery = (input: unknown): Parsed<DealSizeQuery> => parseWith(DealSizeQuerySchema, input);

export interface CurrencyDeals {
  currency: string;
  deals: number;
  revenue: number;
}

export interface DealSizeResult {
  /** The currency measured; null when the deals were paid in several and none was asked for. */
  currency: string | null;
  /** Deals paid in `currency`, their total and per-deal spread (sample standard deviation; null below two deals). */
  deals: number;
  revenue: number;
  average: number | null;
  stdDev: number | null;
  /** Customers in the range with no payment in their window. */
  withoutPayments: number;
  /** Every currency the deals were paid in, most deals first. */
  currencies: CurrencyDeals[];
}

interface SqlRow {
  currency: string;
  deals: number | string;
  revenue: number | string;
  std_dev: number | string | null;
}

const DAY_MS = 86_400_000;

function dealSizeSql(q: DealSizeQuery, p: Params): string {
  const facts = stageFactsSql(p, q.configVersion, [q.customerStage], undefined);
  const unit =
    q.businessUnit === undefined
      ? ''
      : `AND lead_id IN (SELECT lead_id FROM lead_profile FINAL WHERE config_version = ${p.bind('config_version', 'String', q.configVersion)} AND business_unit = ${p.bind('business_unit', 'String', q.businessUnit)})`;
  const window = p.bind('window_ms', 'Int64', q.revenueWindowDays * DAY_MS);
  // A deal paid in two currencies counts once per currency: each is a size in its own money.
  // Deals without a payment come out under currency '' (a real currency code is never empty).
  return `
    WITH deals AS (
      SELECT lead_id, ms FROM (${facts})
      WHERE ms >= ${p.bind('range_from_ms', 'Int64', instantMs(q.dateRange.from))} AND ms < ${p.bind('range_to_ms', 'Int64', instantMs(q.dateRange.to))} ${unit}
    ),
    paid AS (
      SELECT d.lead_id AS lead_id, t.props['currency'] AS currency, sum(toFloat64OrZero(t.props['amount'])) AS revenue
      FROM touchpoints_resolved AS t
      INNER JOIN deals AS d ON d.lead_id = t.actor_id
      WHERE t.type = 'payment' AND toUnixTimestamp64Milli(t.occurred_at) >= d.ms AND toUnixTimestamp64Milli(t.occurred_at) <= d.ms + ${window}
      GROUP BY lead_id, currency
    )
    SELECT ifNull(p.currency, '') AS currency, count() AS deals, sum(ifNull(p.revenue, 0)) AS revenue,
      if(count() > 1, stddevSamp(ifNull(p.revenue, 0)), NULL) AS std_dev
    FROM deals AS d
    LEFT JOIN paid AS p ON p.lead_id = d.lead_id
    GROUP BY currency
    ORDER BY deals DESC, currency
    ${settingsClause({ max_execution_time: q.timeoutSeconds })}`;
}

/** Measures the average deal size (validated here too). */
export async function measureDealSize(client: AnalyticsClient, input: DealSizeQuery | DealSizeQueryInput): Promise<DealSizeResult> {
  const q = DealSizeQuerySchema.parse(input);
  const p = new Params();
  const rows = await client.rows<SqlRow>(dealSizeSql(q, p), p.values);
  const paid = rows.filter((r) => r.currency !== '');
  const currencies = paid.map((r) => ({ currency: r.currency, deals: Number(r.deals), revenue: Number(r.revenue) }));
  const currency = q.currency ?? (currencies.length === 1 ? currencies[0]!.currency : null);
  const chosen = paid.find((r) => r.currency === currency);
  const deals = chosen === undefined ? 0 : Number(chosen.deals);
  const revenue = chosen === undefined ? 0 : Number(chosen.revenue);
  return {
    currency,
    deals,
    revenue,
    average: deals > 0 ? revenue / deals : null,
    stdDev: chosen === undefined || chosen.std_dev === null ? null : Number(chosen.std_dev),
    withoutPayments: Number(rows.find((r) => r.currency === '')?.deals ?? 0),
    currencies,
  };
}

/** The deals were paid in several currencies and the caller named none: sizes in different money cannot be averaged. */
export class AmbiguousCurrencyError extends Error {
  constructor(readonly currencies: readonly CurrencyDeals[]) {
    super(`the deals won were paid in ${currencies.map((c) => `${c.currency} (${c.deals} deal${c.deals === 1 ? '' : 's'})`).join(' and ')}: name the currency to measure the deal size in, or give the deal size`);
  }
}

/**
 * The measured deal size as a reverse plan takes it (deals, revenue, spread,
 * currency), or undefined when no deal was paid; throws AmbiguousCurrencyError
 * rather than pick one of several currencies.
 */
export async function measurePlanDealSize(
  client: AnalyticsClient,
  query: DealSizeQuery | DealSizeQueryInput,
): Promise<{ deals: number; revenue: number; stdDev?: number; currency: string } | undefined> {
  const result = await measureDealSize(client, query);
  if (result.currency === null) {
    if (result.currencies.length > 1) throw new AmbiguousCurrencyError(result.currencies);
    return undefined;
  }
  if (result.deals === 0) return undefined;
  return { deals: result.deals, revenue: result.revenue, currency: result.currency, ...(result.stdDev === null ? {} : { stdDev: result.stdDev }) };
}
