import type { StageConversionRow, StageCountingUnit } from '@sluice/domain';
import { post } from './api.js';
import type { LiveRules } from './rules.js';
import { dateRange } from './time.js';
import type { MonthRange } from './time.js';

/** POST /v1/conversion's answer (its rows are the reference's rows; packages/analytics/README.md) */
export interface ConversionResult {
  pairs: Array<{ from: string; to: string }>;
  rows: StageConversionRow[];
  truncated: boolean;
}

/** Filters on lead profile segments: an empty value means "all". */
export type SegmentFilters = Partial<Record<'businessUnit' | 'channel', string>>;

export interface ConversionQuery {
  range: MonthRange;
  pairs: 'step_to_step' | 'from_first' | Array<{ from: string; to: string }>;
  period?: 'all' | 'week' | 'month' | 'quarter';
  segment?: string;
  filters?: SegmentFilters;
  /** who is counted; absent: the API's default (leads), as for the filter menus, which read only the values */
  unit?: StageCountingUnit;
}

export function conversionBody(rules: LiveRules, q: ConversionQuery): Record<string, unknown> {
  const filters = Object.entries(q.filters ?? {})
    .filter(([, value]) => value)
    .map(([key, value]) => ({ key, values: [value] }));
  return {
    dateRange: dateRange(q.range, rules.timeZone),
    period: q.period ?? 'all',
    pairs: q.pairs,
    ...(q.segment ? { segment: q.segment } : {}),
    ...(filters.length > 0 ? { filters } : {}),
    ...(q.unit ? { unit: q.unit } : {}),
  };
}

export const conversion = (rules: LiveRules, q: ConversionQuery, signal?: AbortSignal) => post<ConversionResult>('/v1/conversion', conversionBody(rules, q), signal);

/**
 * The values a segment takes in a range (for filter menus), most leads first:
 * one conversion query over the model's first pair, split by the segment.
 */
export async function segmentValues(rules: LiveRules, key: string, range: MonthRange, signal?: AbortSignal): Promise<string[]> {
  const [first, second] = rules.stages;
  if (first === undefined || second === undefined) return [];
  const result = await conversion(rules, { range, pairs: [{ from: first, to: second }], segment: key }, signal);
  return result.rows
    .filter((r) => r.segment !== '')
    .sort((a, b) => b.entered - a.entered || a.segment.localeCompare(b.segment))
    .map((r) => r.segment);
}

/**
 * The funnel's pairs for one query: the first stage to each later one (the
 * cohort's counts, as `from_first`) and each later stage to the next (the
 * time in it, as `step_to_step`). ClickHouse answers them in one pass, about
 * as fast as either half alone, so the first view waits for one query.
 */
export function funnelPairs(stages: readonly string[]): Array<{ from: string; to: string }> {
  const [first, ...later] = stages;
  if (first === undefined) return [];
  return [...later.map((to) => ({ from: first, to })), ...later.slice(1).map((to, i) => ({ from: later[i]!, to }))];
}

/** A cohort funnel from the first stage's pairs: how many entered the first stage and how many of them reached each later one. */
export function stageCounts(stages: readonly string[], result: ConversionResult, segment = ''): number[] | undefined {
  const rows = result.rows.filter((r) => r.segment === segment && r.from === stages[0]);
  const first = rows[0];
  if (first === undefined) return undefined;
  return stages.map((stage, i) => (i === 0 ? first.entered : (rows.find((r) => r.to === stage)?.converted ?? 0)));
}
