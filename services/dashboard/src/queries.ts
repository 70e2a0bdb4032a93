import type { StageCountingUnit } from '@sluice/domain';
import { query } from './api.js';
import type { QueryAnswer, QueryBody } from '@sluice/analytics/api';
import type { LiveRules } from './rules.js';
import { dateRange } from './time.js';
import type { MonthRange } from './time.js';

/** POST /v1/conversion's answer (its rows are the reference's rows; packages/analytics/README.md) */
export type ConversionResult = QueryAnswer<'/v1/conversion'>;
type ConversionBody = QueryBody<'/v1/conversion'>;
/** A lead profile key conversion can be split or filtered by. */
export type SegmentKey = NonNullable<ConversionBody['segment']>;

/** Filters on lead profile segments: an empty value means "all". */
export type SegmentFilters = Partial<Record<'businessUnit' | 'channel', string>>;

export interface ConversionQuery {
  range: MonthRange;
  pairs: 'step_to_step' | 'from_first' | Array<{ from: string; to: string }>;
  period?: 'all' | 'week' | 'month' | 'quarter';
  segment?: SegmentKey;
  filters?: SegmentFilters;
  /** who is counted; absent: the API's default (leads), as for the filter menus, which read only the values */
  unit?: StageCountingUnit;
}

export function conversionBody(rules: LiveRules, q: ConversionQuery): ConversionBody {
  const filters = (['businessUnit', 'channel'] as const).flatMap((key) => {
    const value = q.filters?.[key];
    return value ? [{ key, values: [value] }] : [];
  });
  return {
    dateRange: dateRange(q.range, rules.timeZone),
    period: q.period ?? 'all',
    pairs: q.pairs,
    ...(q.segment ? { segment: q.segment } : {}),
    ...(filters.length > 0 ? { filters } : {}),
    ...(q.unit ? { unit: q.unit } : {}),
  };
}

export const conversion = (rules: LiveRules, q: ConversionQuery, signal?: AbortSignal) => query('/v1/conversion', conversionBody(rules, q), signal);

/**
 * The values a segment takes in a range (for filter menus), most leads first:
 * one conversion query over the model's first pair, split by the segment.
 */
export async function segmentValues(rules: LiveRules, key: SegmentKey, range: MonthRange, signal?: AbortSignal): Promise<string[]> {
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
