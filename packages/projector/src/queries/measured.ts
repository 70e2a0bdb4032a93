import { DateTime } from 'luxon';
import type { ProjectionStore } from '../store/projection-store.js';
import { liveConversion } from './conversion.js';
import type { LiveConversionQuery, LiveConversionRow } from './conversion.js';
import { pipelineCounts } from './pipeline.js';
import type { PipelineUnit } from './pipeline.js';

export interface MeasuredStep {
  from: string;
  to: string;
  entered: number;
  converted: number;
  /** mean days from entering `from` to entering `to`, among those who did */
  meanLagDays: number | null;
}

export interface MeasuredFunnel {
  steps: MeasuredStep[];
  /** open leads held now in each stage before the last (the planner weighs them by their chance to close in time) */
  pipeline: Record<string, number>;
}

export interface MeasureOptions {
  /** the planned chain, first stage to deal stage */
  stages: readonly string[];
  businessUnit?: string | undefined;
  /** the plan's "now" (ISO); the lookback window ends at its local day */
  asOf: string;
  timeZone: string;
  lookbackMonths: number;
}

/** A conversion row as sumSteps reads it: the live projection's, or ClickHouse's stage conversion with its mean as avgMs. */
export type StepRow = Pick<LiveConversionRow, 'from' | 'to' | 'entered' | 'converted' | 'avgMs'>;

/** Sums each consecutive step of `stages` over the conversion rows of every cohort (and segment). */
export function sumSteps(rows: readonly StepRow[], stages: readonly string[]): MeasuredStep[] {
  return stages.slice(1).map((to, i) => {
    const from = stages[i]!;
    let entered = 0;
    let converted = 0;
    let lagMsTotal = 0;
    for (const row of rows) {
      if (row.from !== from || row.to !== to) continue;
      entered += row.entered;
      converted += row.converted;
      lagMsTotal += (row.avgMs ?? 0) * row.converted;
    }
    return { from, to, entered, converted, meanLagDays: converted > 0 ? lagMsTotal / converted / 86_400_000 : null };
  });
}

/**
 * What a reverse plan needs from history: for each step, over the leads that
 * entered its `from` stage in the lookback window (business time zone), how
 * many have reached the next stage so far and how long it took; and the open
 * pipeline held now. Recent cohorts have had less time to convert, so a
 * window ending at asOf understates slow steps; the planner reports how many
 * observations each rate rests on.
 */
export function measureFunnel(projections: ProjectionStore, options: MeasureOptions): MeasuredFunnel {
  const conversion = liveConversion(projections, lookbackConversionQuery(options));
  return { steps: sumSteps(conversion.rows, options.stages), pipeline: heldPipeline(projections, options) };
}

/** The live conversion a measured funnel sums: step to step, cohorts that entered in the lookback window before asOf's local day. */
export function lookbackConversionQuery(options: MeasureOptions): LiveConversionQuery {
  const end = DateTime.fromISO(options.asOf, { zone: options.timeZone });
  return {
    period: 'all',
    pairs: 'step_to_step',
    from: end.minus({ months: options.lookbackMonths }).toISODate()!,
    to: end.toISODate()!,
    ...(options.businessUnit === undefined ? {} : { businessUnit: options.businessUnit }),
  };
}

/** The pipeline a plan counts on: leads (or accounts) held now in each planned stage before the deal stage, the empty ones left out. */
export function heldPipeline(projections: ProjectionStore, options: Pick<MeasureOptions, 'stages' | 'businessUnit'> & { unit?: PipelineUnit }): Record<string, number> {
  return heldOf(pipelineCounts(projections, { businessUnit: options.businessUnit, unit: options.unit }), options.stages);
}

/** Of the pipeline counts per stage, the planned stages before the deal stage that hold any. */
export function heldOf(held: Readonly<Record<string, number>>, stages: readonly string[]): Record<string, number> {
  return Object.fromEntries(stages.slice(0, -1).filter((s) => (held[s] ?? 0) > 0).map((s) => [s, held[s]!]));
}
