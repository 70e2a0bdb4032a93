import { DateTime } from 'luxon';
import type { ProjectionStore } from '../store/projection-store.js';
import { liveConversion } from './conversion.js';
import type { LiveConversion } from './conversion.js';
import { pipelineCounts } from './pipeline.js';

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

/** Sums each consecutive step over the conversion rows of every cohort. */
export function sumSteps(conversion: LiveConversion, stages: readonly string[]): MeasuredStep[] {
  return stages.slice(1).map((to, i) => {
    const from = stages[i]!;
    let entered = 0;
    let converted = 0;
    let lagMsTotal = 0;
    for (const row of conversion.rows) {
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
  const end = DateTime.fromISO(options.asOf, { zone: options.timeZone });
  const conversion = liveConversion(projections, {
    period: 'all',
    pairs: 'step_to_step',
    from: end.minus({ months: options.lookbackMonths }).toISODate()!,
    to: end.toISODate()!,
    ...(options.businessUnit === undefined ? {} : { businessUnit: options.businessUnit }),
  });
  const held = pipelineCounts(projections, options.businessUnit === undefined ? {} : { businessUnit: options.businessUnit });
  const pipeline = Object.fromEntries(options.stages.slice(0, -1).filter((s) => (held[s] ?? 0) > 0).map((s) => [s, held[s]!]));
  return { steps: sumSteps(conversion, options.stages), pipeline };
}
