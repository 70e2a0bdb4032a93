import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { liveConversion, openProjectionStore, pipelineCounts } from '@sluice/projector';
import type { LiveConversion } from '@sluice/projector';

export interface MeasuredStep {
  from: string;
  to: string;
  entered: number;
  converted: number;
  /** mean days from entering `from` to entering `to`, among those who did */
  meanLagDays: number | null;
}

/**
 * Step rates measured from the live conversion read model: over the cohorts
 * that entered each `from` stage in the lookback window (business time zone),
 * how many have reached the next stage so far. Recent cohorts have had less
 * time to convert, so a window ending at asOf understates slow steps; the
 * planner reports how many observations each rate rests on.
 */
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

export interface MeasuredFunnel {
  steps: MeasuredStep[];
  /** open leads held in each stage now (the planner weighs them by their chance to close in time) */
  pipeline: Record<string, number>;
}

export function measureFunnel(dataDir: string, options: { stages: readonly string[]; businessUnit: string | undefined; asOf: string; timeZone: string; lookbackMonths: number }): MeasuredFunnel | undefined {
  const path = join(dataDir, 'projections.sqlite');
  if (!existsSync(path)) return undefined;
  const projections = openProjectionStore(path);
  try {
    const end = DateTime.fromISO(options.asOf, { zone: options.timeZone });
    const conversion = liveConversion(projections, {
      period: 'all',
      pairs: 'step_to_step',
      from: end.minus({ months: options.lookbackMonths }).toISODate()!,
      to: end.toISODate()!,
      ...(options.businessUnit === undefined ? {} : { businessUnit: options.businessUnit }),
    });
    const held = pipelineCounts(projections, options.businessUnit === undefined ? {} : { businessUnit: options.businessUnit });
    // the planner counts held leads in the stages before the deal
    const pipeline = Object.fromEntries(options.stages.slice(0, -1).filter((s) => (held[s] ?? 0) > 0).map((s) => [s, held[s]!]));
    return { steps: sumSteps(conversion, options.stages), pipeline };
  } finally {
    projections.close();
  }
}
