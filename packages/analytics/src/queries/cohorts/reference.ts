import { DateTime } from 'luxon';
import { cohortPeriodOf, keepLargestSegments } from '@sluice/domain';
import type { FunnelTouchpoint } from '@sluice/domain';

/**
 * Reference implementation of retention cohorts: plain TypeScript over
 * touchpoints (actors resolved as funnels count them, see touchpoint.ts).
 * `@sluice/analytics` computes the same in ClickHouse and property tests hold
 * the two to the same answers.
 *
 * Semantics
 * - A customer is an actor with a purchase event (a touchpoint of one of
 *   `purchaseTypes`). Its first purchase is its earliest one, ties at one
 *   millisecond broken by log position (the order funnels use).
 * - Cohort: the period (month or quarter) of the first purchase in the
 *   business time zone, as stage conversion cuts periods; only first
 *   purchases in [fromMs, toMs) form cohorts. A customer whose first purchase
 *   is before the range is in no cohort, even if it bought again in range.
 * - Offset of an event: calendar periods between the first purchase and the
 *   event, in the zone: for months, (year * 12 + month) of the event's local
 *   date minus that of the purchase's; for quarters the same with quarters. So
 *   a purchase on Jan 31 and a renewal on Feb 1 are one month apart, and DST
 *   never moves an event across a period.
 * - Retained at offset k (0..offsets): the customer has a retention event
 *   (one of `retentionTypes`) with offset k, at or after its first purchase's
 *   millisecond, other than the first purchase event itself (so `payment` may
 *   be both the purchase and the retention type: the repeat payments count).
 * - Not yet begun: with an as-of instant, an offset whose local period
 *   begins after it (its period index above the as-of instant's) is null in
 *   `retained` and `rates`, not 0: it has not happened, so no one churned in
 *   it. The period holding the as-of instant has begun and counts. Without
 *   one, every offset counts (a caller that means "now" says so: time comes
 *   from the request, never from the clock here).
 * - Segment: a value per customer given by the caller (a profile key of the
 *   actor, or the source/channel/campaign of its first purchase event);
 *   with a segment limit the segments with the most customers over all
 *   cohorts are kept (ties by value).
 * - Counting unit: `leads` (default) counts each actor; `accounts` counts
 *   buying groups: the actors whose profile names an account are one
 *   customer, whose first purchase is the earliest of any of its actors (ties
 *   by log position) and who is retained at offset k when any of its actors
 *   has a retention event there, at or after that purchase's millisecond and
 *   other than that purchase event. An actor without an account counts as its
 *   own (stage conversion's rule). The segment is read from the actor that
 *   made the first purchase.
 * - Rows: one per (cohort period, segment) with customers, sorted by period
 *   start then segment; `retained[k]` customers retained at offset k, and
 *   `rates[k] = retained[k] / customers` (both null when not yet begun).
 */

export const RETENTION_PERIODS = ['month', 'quarter'] as const;
export type RetentionPeriod = (typeof RETENTION_PERIODS)[number];

/** What a retention customer is: an actor (a lead, or an anonymous buyer), or an account. */
export const RETENTION_COUNTING_UNITS = ['leads', 'accounts'] as const;
export type RetentionCountingUnit = (typeof RETENTION_COUNTING_UNITS)[number];

export interface RetentionSpec {
  period: RetentionPeriod;
  timeZone: string;
  /** First purchases count in [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  purchaseTypes: readonly string[];
  retentionTypes: readonly string[];
  /** The last offset reported (0..offsets). */
  offsets: number;
  segmentLimit?: number | undefined;
  /** Who is a customer (see the semantics); undefined: leads. */
  unit?: RetentionCountingUnit | undefined;
  /** Offsets whose period begins after this instant are null (see the semantics); undefined: none. */
  asOfMs?: number | undefined;
}

export interface RetentionCohortRow {
  /** The cohort's first day in the zone, YYYY-MM-DD. */
  period: string;
  /** 2026-03 or 2026-Q1. */
  periodLabel: string;
  segment: string;
  /** Customers whose first purchase falls in the period: the cohort size. */
  customers: number;
  /** Per offset 0..offsets: customers with a retention event in that period; null when it has not begun. */
  retained: Array<number | null>;
  /** retained[k] / customers; null when the period has not begun. */
  rates: Array<number | null>;
}

/** Calendar periods (months or quarters) since year 0 of an instant's local date in the zone. */
export function periodIndexOf(ms: number, period: RetentionPeriod, timeZone: string): number {
  const t = DateTime.fromMillis(ms, { zone: timeZone });
  if (!t.isValid) throw new Error(`cannot place ${ms} in time zone ${timeZone}: ${t.invalidExplanation ?? t.invalidReason ?? 'invalid'}`);
  return period === 'month' ? t.year * 12 + t.month - 1 : t.year * 4 + t.quarter - 1;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const earlier = (a: FunnelTouchpoint, b: FunnelTouchpoint) => a.occurredAtMs < b.occurredAtMs || (a.occurredAtMs === b.occurredAtMs && a.position < b.position);

/**
 * Retention cohorts over the touchpoints (see the semantics); `segmentOf` maps
 * the actor of a customer's first purchase, and that purchase, to its segment
 * value; `accountOf` an actor to its account ('' for none), read by unit accounts.
 */
export function retentionCohorts(
  touchpoints: readonly FunnelTouchpoint[],
  spec: RetentionSpec,
  segmentOf: (actorId: string, firstPurchase: FunnelTouchpoint) => string = () => '',
  accountOf: (actorId: string) => string = () => '',
): RetentionCohortRow[] {
  const purchaseTypes = new Set(spec.purchaseTypes);
  const retentionTypes = new Set(spec.retentionTypes);
  // '~' never occurs in ids, so an account never collides with an actor counted as its own
  const unitOf = (actorId: string) => {
    const account = spec.unit === 'accounts' ? accountOf(actorId) : '';
    return account === '' ? actorId : `account~${account}`;
  };
  const firstPurchase = new Map<string, FunnelTouchpoint>();
  for (const tp of touchpoints) {
    if (!purchaseTypes.has(tp.type)) continue;
    const unit = unitOf(tp.actorId);
    const known = firstPurchase.get(unit);
    if (!known || earlier(tp, known)) firstPurchase.set(unit, tp);
  }
  const offsetsRetained = new Map<string, Set<number>>();
  for (const tp of touchpoints) {
    const unit = unitOf(tp.actorId);
    const first = firstPurchase.get(unit);
    if (!first || !retentionTypes.has(tp.type) || tp.position === first.position || tp.occurredAtMs < first.occurredAtMs) continue;
    const offset = periodIndexOf(tp.occurredAtMs, spec.period, spec.timeZone) - periodIndexOf(first.occurredAtMs, spec.period, spec.timeZone);
    if (offset > spec.offsets) continue;
    let offsets = offsetsRetained.get(unit);
    if (!offsets) offsetsRetained.set(unit, (offsets = new Set()));
    offsets.add(offset);
  }
  const cells = new Map<string, RetentionCohortRow>();
  for (const [unit, first] of firstPurchase) {
    if (first.occurredAtMs < spec.fromMs || first.occurredAtMs >= spec.toMs) continue;
    const { period, label } = cohortPeriodOf(first.occurredAtMs, spec.period, spec.timeZone);
    const segment = segmentOf(first.actorId, first);
    const key = JSON.stringify([period, segment]);
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { period, periodLabel: label, segment, customers: 0, retained: new Array<number>(spec.offsets + 1).fill(0), rates: [] }));
    cell.customers++;
    for (const k of offsetsRetained.get(unit) ?? []) cell.retained[k]!++;
  }
  const asOfIndex = spec.asOfMs === undefined ? Infinity : periodIndexOf(spec.asOfMs, spec.period, spec.timeZone);
  let rows = [...cells.values()].map((c) => {
    const cohortIndex = periodIndexOf(Date.parse(`${c.period}T00:00:00Z`), spec.period, 'UTC');
    const retained = c.retained.map((n, k) => (cohortIndex + k > asOfIndex ? null : n));
    return { ...c, retained, rates: retained.map((n) => (n === null ? null : n / c.customers)) };
  });
  if (spec.segmentLimit !== undefined) rows = keepLargestSegments(rows, spec.segmentLimit, (r) => r.customers);
  return rows.sort((a, b) => compare(a.period, b.period) || compare(a.segment, b.segment));
}
