import { type CohortPeriod, type StagePair, type StagePairDefinition, cohortPeriodOf, stagePairs } from '@sluice/domain';
import { DateTime } from 'luxon';
import type { ProjectionState, ProjectionStore } from '../store/projection-store.js';

export interface LiveConversionQuery {
  /** day, ISO week, month, quarter, year (the first day in the business zone), or all (one cohort) */
  period: CohortPeriod;
  /**
   * Which (from, to) pairs: the domain's definitions (`step_to_step`,
   * `from_first`), `every_later` (each stage to every later one, the default),
   * or a list.
   */
  pairs?: StagePairDefinition | 'every_later' | readonly StagePair[];
  /** first cohort day, YYYY-MM-DD in the business zone (inclusive): entries into `from` from its local midnight on */
  from?: string;
  /** entries into `from` before this day's local midnight (exclusive) */
  to?: string;
  businessUnit?: string;
  /** the actor's first-touch source ('' for none) */
  source?: string;
  /** split cohorts by these; without, a cohort sums every unit and source */
  groupBy?: readonly ('businessUnit' | 'source')[];
}

/**
 * One (pair, cohort period, segment) with entries: the reference's
 * StageConversionRow (`@sluice/domain` reference/stage-conversion.ts) without
 * a window and as of the projector's checkpoint, so ClickHouse's answer for
 * the same question is the same row. Medians need every duration, which
 * counters do not keep: the live projection serves the mean instead.
 */
export interface LiveConversionRow {
  /** index into `pairs` */
  readonly pair: number;
  readonly from: string;
  readonly to: string;
  /** the period's first day, YYYY-MM-DD ('' for `all`) */
  readonly period: string;
  /** 2026-03-02, 2026-W10, 2026-03, 2026-Q1, 2026, or all */
  readonly periodLabel: string;
  readonly businessUnit?: string;
  readonly source?: string;
  /** actors that entered `from` in this period (skipped stages count as passed through) */
  readonly entered: number;
  /** of those, how many have entered `to` so far */
  readonly converted: number;
  /** converted / entered */
  readonly rate: number;
  /** of those that entered, how many passed `from` by skipping it */
  readonly skippedFrom: number;
  /** mean time from entering `from` to entering `to` over the converted, ms; null when none converted */
  readonly avgMs: number | null;
}

export interface LiveConversion {
  readonly timeZone: string;
  readonly period: CohortPeriod;
  readonly configVersion: string;
  /** the projections' checkpoint: the counts include every event up to it */
  readonly position: number;
  readonly stages: readonly string[];
  readonly pairs: readonly StagePair[];
  /** sorted by pair, period, business unit, source */
  readonly rows: readonly LiveConversionRow[];
}

/** The period's first day from a cohort day (local calendar dates, so periods are whole days). */
const PERIOD_SQL: Record<CohortPeriod, string> = {
  day: 'day',
  week: "date(day, '-6 days', 'weekday 1')",
  month: "substr(day, 1, 8) || '01'",
  quarter: "substr(day, 1, 5) || printf('%02d', (CAST(substr(day, 6, 2) AS INTEGER) - 1) / 3 * 3 + 1) || '-01'",
  year: "substr(day, 1, 5) || '01-01'",
  all: "''",
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A conversion counter's segment, stage pair and counts: the columns of `conversion_days` beside its cohort day, and of their sums. */
export interface ConversionCounts {
  business_unit: string;
  source: string;
  from_stage: string;
  to_stage: string;
  leads: number;
  skipped: number;
  velocity_ms: number;
}

/** Conversion counters summed per cohort period (its first day), segment and stage pair, as any adapter groups them. */
export interface ConversionCounterRow extends ConversionCounts {
  period: string;
}

function pairsOf(stages: readonly string[], pairs: LiveConversionQuery['pairs']): StagePair[] {
  if (typeof pairs === 'object') {
    for (const p of pairs) if (!stages.includes(p.from) || !stages.includes(p.to)) throw new RangeError(`unknown stage in pair ${p.from} -> ${p.to}; stages: ${stages.join(', ')}`);
    return [...pairs];
  }
  if (pairs === 'step_to_step' || pairs === 'from_first') return stagePairs(stages, pairs);
  return stages.flatMap((from, i) => stages.slice(i + 1).map((to) => ({ from, to })));
}

/**
 * The live conversion projection (README "Live conversion"): per cohort
 * period (of entering `from`, in the business zone), business unit and
 * source, the actors that entered each stage and how many of them have
 * reached each later stage so far. Served from the counters the projector
 * keeps per local day, so it is a group-by over at most days x units x
 * sources x stage pairs rows.
 */
export function liveConversion(projections: ProjectionStore, query: LiveConversionQuery): LiveConversion {
  const { position, config } = projections.state();
  const periodSql = checkLiveConversion(config, query, PERIOD_SQL);
  const { byUnit, bySource } = conversionGrouping(query);

  const where: string[] = [];
  const params: Record<string, string> = {};
  const bind = (sql: string, name: string, value: string | undefined) => {
    if (value === undefined) return;
    where.push(sql);
    params[name] = value;
  };
  bind('day >= @from', 'from', query.from);
  bind('day < @to', 'to', query.to);
  bind('business_unit = @businessUnit', 'businessUnit', query.businessUnit);
  bind('source = @source', 'source', query.source);
  const counters = projections.db
    .prepare(
      `SELECT ${periodSql} AS period, ${byUnit ? 'business_unit' : "''"} AS business_unit, ${bySource ? 'source' : "''"} AS source,
         from_stage, to_stage, SUM(leads) AS leads, SUM(skipped) AS skipped, SUM(velocity_ms) AS velocity_ms
       FROM conversion_days ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       GROUP BY 1, 2, 3, from_stage, to_stage`,
    )
    .all(params) as ConversionCounterRow[];

  return liveConversionOf({ position, config: config! }, query, counters);
}

/**
 * Checks a live conversion query against the rules the read models were
 * built under (built at all, a known period, YYYY-MM-DD days, known stages)
 * and returns the adapter's own expression for the period, from `periods`.
 */
export function checkLiveConversion(config: ProjectionState['config'], query: LiveConversionQuery, periods: Readonly<Record<CohortPeriod, string>>): string {
  if (config === undefined) throw new Error('the read models have not been built yet');
  const periodSql = periods[query.period];
  if (periodSql === undefined) throw new RangeError(`period must be one of ${Object.keys(periods).join(', ')}, got ${String(query.period)}`);
  for (const d of [query.from, query.to]) if (d !== undefined && !DATE.test(d)) throw new RangeError(`cohort dates are YYYY-MM-DD, got ${d}`);
  pairsOf(config.stages, query.pairs);
  return periodSql;
}

/** Which segments a query splits its cohorts by (the others are summed over, as ''). */
export function conversionGrouping(query: LiveConversionQuery): { byUnit: boolean; bySource: boolean } {
  return { byUnit: query.groupBy?.includes('businessUnit') ?? false, bySource: query.groupBy?.includes('source') ?? false };
}

/** The live conversion answer from the counters summed per period and segment, whichever adapter summed them. */
export function liveConversionOf(
  state: { readonly position: number; readonly config: NonNullable<ProjectionState['config']> },
  query: LiveConversionQuery,
  counters: readonly ConversionCounterRow[],
): LiveConversion {
  const { position, config } = state;
  const pairs = pairsOf(config.stages, query.pairs);
  const { byUnit, bySource } = conversionGrouping(query);
  const byKey = new Map(counters.map((c) => [`${c.period}\u0000${c.business_unit}\u0000${c.source}\u0000${c.from_stage}\u0000${c.to_stage}`, c]));
  const labels = new Map<string, string>();
  const labelOf = (period: string) => {
    let label = labels.get(period);
    if (label === undefined) {
      // the domain names periods; ask it about the period's first instant
      label = period === '' ? cohortPeriodOf(0, 'all', config.timeZone).label : cohortPeriodOf(DateTime.fromISO(period, { zone: config.timeZone }).toMillis(), query.period, config.timeZone).label;
      labels.set(period, label);
    }
    return label;
  };
  const rows: LiveConversionRow[] = [];
  pairs.forEach((pair, index) => {
    for (const entered of counters) {
      if (entered.from_stage !== pair.from || entered.to_stage !== pair.from || entered.leads === 0) continue;
      const reached = byKey.get(`${entered.period}\u0000${entered.business_unit}\u0000${entered.source}\u0000${pair.from}\u0000${pair.to}`);
      const converted = reached?.leads ?? 0;
      rows.push({
        pair: index,
        from: pair.from,
        to: pair.to,
        period: entered.period,
        periodLabel: labelOf(entered.period),
        ...(byUnit ? { businessUnit: entered.business_unit } : {}),
        ...(bySource ? { source: entered.source } : {}),
        entered: entered.leads,
        converted,
        rate: converted / entered.leads,
        skippedFrom: entered.skipped,
        avgMs: converted === 0 ? null : reached!.velocity_ms / converted,
      });
    }
  });
  const compare = (a: string | undefined, b: string | undefined) => ((a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0);
  rows.sort((a, b) => a.pair - b.pair || compare(a.period, b.period) || compare(a.businessUnit, b.businessUnit) || compare(a.source, b.source));
  return { timeZone: config.timeZone, period: query.period, configVersion: config.version, position, stages: config.stages, pairs, rows };
}
