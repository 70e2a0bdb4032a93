import { DateTime } from 'luxon';
import type { LeadLifecycleFacts } from './segments.js';

/**
 * Reference implementation of stage conversion: plain TypeScript over the
 * stage-transition rows of ONE rule configuration. `@sluice/analytics`
 * computes the same in ClickHouse (stage_transitions + lead_profile) and
 * property tests hold the two to the same answers, so the semantics are
 * written down here.
 *
 * Semantics
 * - Input: one fact per lead and stage reached (the projector writes one per
 *   (lead, stage); skipped stages have a fact with `skipped: true` and the
 *   time of the stage that was reached). A lead counts at most once per stage.
 * - A pair (from, to): the cohort of a lead is the period in which it ENTERED
 *   `from`, in the business time zone (day; ISO week, Monday start; month;
 *   quarter; year; or `all`, one cohort). Only entries into `from` within the
 *   date range [fromMs, toMs) form cohorts.
 * - Converted: the lead has a `to` fact at or after its `from` time, and, with
 *   a window, at most `windowMs` later (inclusive: exactly windowMs counts).
 *   Windows are fixed lengths (a day is 24 h), like every duration in rules.
 *   A skipped stage counts as passed through: a lead that jumped from lead to
 *   SQL converted lead -> MQL and MQL -> SQL, both at the jump's time.
 * - asOf (optional): facts after it are ignored, as if not happened yet. With
 *   both asOf and a window, `open` counts the cohort's leads that have not
 *   converted but whose window is still open at asOf (fromTime + window >
 *   asOf): the cohort's rate may still rise by that many.
 * - Time to convert: over converted leads, `to` time minus `from` time (ms);
 *   the mean is their integer sum over their count (the planner's lags are
 *   means; an exact sum keeps both implementations equal); median and p90 interpolate like ClickHouse's quantileExactInclusive (R-7,
 *   Excel PERCENTILE.INC): see {@link quantileInclusive}.
 * - Segment: a value per lead (from its current profile: business unit,
 *   first-touch source, ...); '' when the lead has no profile. With a segment
 *   limit, the segments with the most cohort entries over all pairs and
 *   periods are kept (ties by value), the rest are left out.
 * - Rows: one per (pair, period, segment) with at least one entry, sorted by
 *   pair index, period start, segment.
 * - Side states: `disqualified` / `recycled` count the cohort's units that
 *   never reached `to` (at any time up to asOf, window or not: they left
 *   between the two stages) and are in that side state now, as the projector
 *   last recorded it (the lead's current episode, as of its last event). With
 *   asOf, an episode that began after asOf does not count. A unit is in a side
 *   state when every one of its leads is.
 * - Counting unit: `lead` (default) counts each lead; `account` counts buying
 *   groups: an account reaches a stage when any of its leads does, at the
 *   earliest such time (skipped only when every lead reaching it at that
 *   instant skipped it). A lead without an account is an account of its own.
 *   Only facts of the pairs' stages and of leads that pass the filters take
 *   part. An account's segment is that of its lead that entered `from` first
 *   (ties: the smaller lead id).
 */

export interface StageFact {
  /** The actor: a lead id, or `anon~<anonymousId>` for an anonymous subject. */
  leadId: string;
  stage: string;
  enteredAtMs: number;
  skipped: boolean;
}

export const COHORT_PERIODS = ['day', 'week', 'month', 'quarter', 'year', 'all'] as const;
export type CohortPeriod = (typeof COHORT_PERIODS)[number];

export interface StagePair {
  from: string;
  to: string;
}

/** step_to_step: each stage to the next; from_first: the model's first stage to each later one. */
export const STAGE_PAIR_DEFINITIONS = ['step_to_step', 'from_first'] as const;
export type StagePairDefinition = (typeof STAGE_PAIR_DEFINITIONS)[number];

/** The pairs a definition asks about, for an ordered stage model (by stage id). */
export function stagePairs(stages: readonly string[], definition: StagePairDefinition): StagePair[] {
  const out: StagePair[] = [];
  for (let i = 1; i < stages.length; i++) out.push({ from: definition === 'step_to_step' ? stages[i - 1]! : stages[0]!, to: stages[i]! });
  return out;
}

/** Which entries into `from` count, how long they have to convert and what is known: stage conversion's terms, which time to convert and conversion drivers count by too. */
export interface ConversionWindow {
  /** Entries into `from` count in [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  /** Inclusive; undefined: no window (converted at any later time). */
  windowMs?: number | undefined;
  /** Facts after it are ignored; undefined: all. */
  asOfMs?: number | undefined;
}

export interface StageConversionSpec extends ConversionWindow {
  pairs: readonly StagePair[];
  period: CohortPeriod;
  /** IANA zone the cohort periods are cut in. */
  timeZone: string;
  /** Segment limit (see the semantics); undefined: every segment. */
  segmentLimit?: number | undefined;
  /** Who is counted (see the semantics); undefined: leads. */
  unit?: StageCountingUnit | undefined;
}

export const STAGE_COUNTING_UNITS = ['lead', 'account'] as const;
export type StageCountingUnit = (typeof STAGE_COUNTING_UNITS)[number];

export interface StageConversionRow {
  /** Index into spec.pairs. */
  pair: number;
  from: string;
  to: string;
  /** The period's first day in the business zone, YYYY-MM-DD ('' for `all`). */
  period: string;
  /** 2026-03-02, 2026-W10, 2026-03, 2026-Q1, 2026, or all. */
  periodLabel: string;
  segment: string;
  /** Leads that entered `from` in this period. */
  entered: number;
  converted: number;
  /** converted / entered. */
  rate: number;
  /** Leads of the cohort whose `from` was skipped (passed through). */
  skippedFrom: number;
  /** Never reached `to` and disqualified now (see the semantics). */
  disqualified: number;
  /** Never reached `to` and recycled now. */
  recycled: number;
  /** Not converted with the window still open at asOf; null without asOf or window. */
  open: number | null;
  /** Among converted leads: mean, median and p90 of (to time - from time) in ms; null when none converted. */
  meanMs: number | null;
  medianMs: number | null;
  p90Ms: number | null;
}

/** The cohort period of an instant: its first day (YYYY-MM-DD) and label, in the zone. */
export function cohortPeriodOf(ms: number, period: CohortPeriod, timeZone: string): { period: string; label: string } {
  if (period === 'all') return { period: '', label: 'all' };
  const t = DateTime.fromMillis(ms, { zone: timeZone });
  if (!t.isValid) throw new Error(`cannot place ${ms} in time zone ${timeZone}: ${t.invalidExplanation ?? t.invalidReason ?? 'invalid'}`);
  // luxon's startOf('week') is the ISO week (Monday) unless locale weeks are asked for
  const start = t.startOf(period);
  const date = start.toISODate()!;
  switch (period) {
    case 'day':
      return { period: date, label: date };
    case 'week':
      return { period: date, label: `${start.weekYear}-W${String(start.weekNumber).padStart(2, '0')}` };
    case 'month':
      return { period: date, label: date.slice(0, 7) };
    case 'quarter':
      return { period: date, label: `${start.year}-Q${start.quarter}` };
    case 'year':
      return { period: date, label: String(start.year) };
  }
}

/**
 * The `level` quantile of values, as ClickHouse's quantileExactInclusive
 * computes it (R-7, Excel PERCENTILE.INC), with the same floating-point steps
 * so both give the same number: h = level * (n - 1) + 1, k = floor(h),
 * q = x[k-1] + (h - k) * (x[k] - x[k-1]) over the sorted values (1-based k).
 */
export function quantileInclusive(values: readonly number[], level: number): number | null {
  if (values.length === 0) return null;
  const x = [...values].sort((a, b) => a - b);
  const h = level * (x.length - 1) + 1;
  const k = Math.floor(h);
  if (k >= x.length) return x[x.length - 1]!;
  if (k < 1) return x[0]!;
  return x[k - 1]! + (h - k) * (x[k]! - x[k - 1]!);
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A unit's (a lead's or an account's) entry into one stage. */
interface UnitEntry {
  enteredAtMs: number;
  skipped: boolean;
  /** the lead whose fact this is: the segment is read from it */
  leadId: string;
}

/** Each unit's entry per stage (of the pairs' stages, up to asOf) and its leads, per the counting unit. */
function unitEntries(facts: readonly StageFact[], spec: StageConversionSpec, accountOf: (leadId: string) => string): Map<string, { stages: Map<string, UnitEntry>; leads: Set<string> }> {
  const asked = new Set(spec.pairs.flatMap((p) => [p.from, p.to]));
  const seen = new Set<string>();
  const units = new Map<string, { stages: Map<string, UnitEntry>; leads: Set<string> }>();
  for (const f of facts) {
    if (spec.asOfMs !== undefined && f.enteredAtMs > spec.asOfMs) continue;
    const key = JSON.stringify([f.leadId, f.stage]);
    if (seen.has(key)) throw new Error(`lead ${f.leadId} has two facts for stage ${f.stage}: one per lead and stage`);
    seen.add(key);
    if (!asked.has(f.stage)) continue;
    const account = spec.unit === 'account' ? accountOf(f.leadId) : '';
    // '~' never occurs in ids, so an account never collides with a lead counted as its own account
    const unitId = account === '' ? f.leadId : `account~${account}`;
    let unit = units.get(unitId);
    if (!unit) units.set(unitId, (unit = { stages: new Map(), leads: new Set() }));
    unit.leads.add(f.leadId);
    const known = unit.stages.get(f.stage);
    if (known === undefined || f.enteredAtMs < known.enteredAtMs) unit.stages.set(f.stage, { enteredAtMs: f.enteredAtMs, skipped: f.skipped, leadId: f.leadId });
    else if (f.enteredAtMs === known.enteredAtMs) unit.stages.set(f.stage, { enteredAtMs: f.enteredAtMs, skipped: known.skipped && f.skipped, leadId: f.leadId < known.leadId ? f.leadId : known.leadId });
  }
  return units;
}

/**
 * Conversion rows for the pairs over the facts (see the semantics above);
 * `segmentOf` maps a lead to its segment value, `lifecycleOf` to its account
 * and side state (undefined: no account, in the funnel).
 */
export function stageConversion(
  facts: readonly StageFact[],
  spec: StageConversionSpec,
  segmentOf: (leadId: string) => string = () => '',
  lifecycleOf: (leadId: string) => LeadLifecycleFacts | undefined = () => undefined,
): StageConversionRow[] {
  const units = unitEntries(facts, spec, (leadId) => lifecycleOf(leadId)?.accountId ?? '');
  const inSide = (leadId: string, state: LeadLifecycleFacts['sideState']) => {
    const l = lifecycleOf(leadId);
    return l !== undefined && l.sideState === state && (spec.asOfMs === undefined || l.sideSinceMs <= spec.asOfMs);
  };
  interface Cell {
    pair: number;
    period: string;
    label: string;
    segment: string;
    entered: number;
    skippedFrom: number;
    disqualified: number;
    recycled: number;
    open: number;
    times: number[];
  }
  const cells = new Map<string, Cell>();
  for (const { stages, leads } of units.values()) {
    const allIn = (state: LeadLifecycleFacts['sideState']) => [...leads].every((l) => inSide(l, state));
    spec.pairs.forEach((pair, index) => {
      const from = stages.get(pair.from);
      if (!from || from.enteredAtMs < spec.fromMs || from.enteredAtMs >= spec.toMs) return;
      const { period, label } = cohortPeriodOf(from.enteredAtMs, spec.period, spec.timeZone);
      const segment = segmentOf(from.leadId);
      const key = JSON.stringify([index, period, segment]);
      let cell = cells.get(key);
      if (!cell) cells.set(key, (cell = { pair: index, period, label, segment, entered: 0, skippedFrom: 0, disqualified: 0, recycled: 0, open: 0, times: [] }));
      cell.entered++;
      if (from.skipped) cell.skippedFrom++;
      const to = stages.get(pair.to);
      const delta = to === undefined ? undefined : to.enteredAtMs - from.enteredAtMs;
      if (delta === undefined || delta < 0) {
        if (allIn('disqualified')) cell.disqualified++;
        if (allIn('recycled')) cell.recycled++;
      }
      if (delta !== undefined && delta >= 0 && (spec.windowMs === undefined || delta <= spec.windowMs)) cell.times.push(delta);
      else if (spec.asOfMs !== undefined && spec.windowMs !== undefined && from.enteredAtMs + spec.windowMs > spec.asOfMs) cell.open++;
    });
  }
  const withOpen = spec.asOfMs !== undefined && spec.windowMs !== undefined;
  let rows: StageConversionRow[] = [...cells.values()].map((c) => ({
    pair: c.pair,
    from: spec.pairs[c.pair]!.from,
    to: spec.pairs[c.pair]!.to,
    period: c.period,
    periodLabel: c.label,
    segment: c.segment,
    entered: c.entered,
    converted: c.times.length,
    rate: c.times.length / c.entered,
    skippedFrom: c.skippedFrom,
    disqualified: c.disqualified,
    recycled: c.recycled,
    open: withOpen ? c.open : null,
    meanMs: c.times.length === 0 ? null : c.times.reduce((sum, t) => sum + t, 0) / c.times.length,
    medianMs: quantileInclusive(c.times, 0.5),
    p90Ms: quantileInclusive(c.times, 0.9),
  }));
  if (spec.segmentLimit !== undefined) rows = keepLargestSegments(rows, spec.segmentLimit, (r) => r.entered);
  return rows.sort((a, b) => a.pair - b.pair || compare(a.period, b.period) || compare(a.segment, b.segment));
}

/** The rows of the `limit` segments with the largest total `sizeOf` over all rows (ties: smaller value first). */
export function keepLargestSegments<R extends { segment: string }>(rows: readonly R[], limit: number, sizeOf: (row: R) => number): R[] {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.segment, (totals.get(r.segment) ?? 0) + sizeOf(r));
  const kept = new Set(
    [...totals]
      .sort((a, b) => b[1] - a[1] || compare(a[0], b[0]))
      .slice(0, limit)
      .map(([segment]) => segment),
  );
  return rows.filter((r) => kept.has(r.segment));
}
