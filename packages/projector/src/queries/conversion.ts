import type { ProjectionStore } from '../store/projection-store.js';

export type CohortPeriod = 'day' | 'week' | 'month';

export interface LiveConversionQuery {
  period: CohortPeriod;
  /** first cohort day, YYYY-MM-DD in the business zone (inclusive) */
  from?: string;
  /** cohort days before this one (exclusive) */
  to?: string;
  businessUnit?: string;
  /** the lead's source ('' for leads without one) */
  source?: string;
  /** split cohorts by these; without, a cohort sums every unit and source */
  groupBy?: readonly ('businessUnit' | 'source')[];
}

export interface ReachedStage {
  readonly stage: string;
  /** of the actors that entered the cohort's stage, how many have entered this later one so far */
  readonly leads: number;
  /** leads / entered; null when none entered */
  readonly rate: number | null;
  /** mean time from entering the cohort's stage to entering this one, in ms (null when none got there) */
  readonly avgMs: number | null;
}

export interface StageConversion {
  readonly stage: string;
  /** actors that entered the stage in this cohort period (skipped stages count as passed through) */
  readonly entered: number;
  /** every later stage, in model order */
  readonly reached: readonly ReachedStage[];
}

export interface CohortConversion {
  /** first day of the period, YYYY-MM-DD (a week starts on Monday, ISO) */
  readonly period: string;
  readonly businessUnit?: string;
  readonly source?: string;
  readonly stages: readonly StageConversion[];
}

export interface LiveConversion {
  readonly timeZone: string;
  readonly period: CohortPeriod;
  readonly configVersion: string;
  /** the projections' checkpoint: the counts include every event up to it */
  readonly position: number;
  readonly stages: readonly string[];
  readonly cohorts: readonly CohortConversion[];
}

/**
 * Cohort days are local calendar dates, so weeks and months are whole days:
 * the Monday on or before the day, the first of its month.
 */
const PERIOD_SQL: Record<CohortPeriod, string> = {
  day: 'day',
  week: "date(day, '-6 days', 'weekday 1')",
  month: "substr(day, 1, 7) || '-01'",
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

interface CounterRow {
  period: string;
  business_unit: string;
  source: string;
  from_stage: string;
  to_stage: string;
  leads: number;
  velocity_ms: number;
}

/**
 * The live conversion projection (README "Live conversion"): per cohort
 * period, business unit and source, the actors that entered each stage and
 * how many of them have reached each later stage so far, with the mean time
 * it took. Served from the counters the projector keeps, so it costs a group
 * by over at most days x units x sources x stage pairs rows.
 */
export function liveConversion(projections: ProjectionStore, query: LiveConversionQuery): LiveConversion {
  const { position, config } = projections.state();
  if (config === undefined) throw new Error('the read models have not been built yet');
  const periodSql = PERIOD_SQL[query.period];
  if (periodSql === undefined) throw new RangeError(`period must be day, week or month, got ${String(query.period)}`);
  for (const d of [query.from, query.to]) if (d !== undefined && !DATE.test(d)) throw new RangeError(`cohort dates are YYYY-MM-DD, got ${d}`);
  const byUnit = query.groupBy?.includes('businessUnit') ?? false;
  const bySource = query.groupBy?.includes('source') ?? false;

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
  const unitSql = byUnit ? 'business_unit' : "''";
  const sourceSql = bySource ? 'source' : "''";
  const rows = projections.db
    .prepare(
      `SELECT ${periodSql} AS period, ${unitSql} AS business_unit, ${sourceSql} AS source, from_stage, to_stage, SUM(leads) AS leads, SUM(velocity_ms) AS velocity_ms
       FROM conversion_days ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       GROUP BY 1, 2, 3, from_stage, to_stage ORDER BY 1, 2, 3`,
    )
    .all(params) as CounterRow[];

  const stages = config.stages;
  const cohorts: CohortConversion[] = [];
  let current: { key: string; counts: Map<string, CounterRow>; first: CounterRow } | undefined;
  const close = () => {
    if (current === undefined) return;
    const { first, counts } = current;
    cohorts.push({
      period: first.period,
      ...(byUnit ? { businessUnit: first.business_unit } : {}),
      ...(bySource ? { source: first.source } : {}),
      stages: stages.map((stage, i) => {
        const entered = counts.get(`${stage}\u0000${stage}`)?.leads ?? 0;
        return {
          stage,
          entered,
          reached: stages.slice(i + 1).map((later) => {
            const c = counts.get(`${stage}\u0000${later}`);
            const leads = c?.leads ?? 0;
            return { stage: later, leads, rate: entered === 0 ? null : leads / entered, avgMs: c === undefined || leads === 0 ? null : c.velocity_ms / leads };
          }),
        };
      }),
    });
  };
  for (const r of rows) {
    const key = `${r.period}\u0000${r.business_unit}\u0000${r.source}`;
    if (current?.key !== key) {
      close();
      current = { key, counts: new Map(), first: r };
    }
    current.counts.set(`${r.from_stage}\u0000${r.to_stage}`, r);
  }
  close();
  return { timeZone: config.timeZone, period: query.period, configVersion: config.version, position, stages, cohorts };
}
