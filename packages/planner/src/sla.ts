import { wholeUnitsAtLeast } from './chain.js';
import type { PlanInput } from './plan-input.js';
import type { PlannedTarget, SlaDraft } from './plan-output.js';

/**
 * The marketing <-> sales SLA a unit's targets imply: MQLs (or whatever the
 * marketing hand-off stage is) marketing must deliver each month, the leads
 * sales must take on, and the reps that takes at a monthly cap per rep.
 * Targets overlap in time (Q2's MQLs arrive while Q1's SQLs are worked), so
 * months add up across all of the unit's feasible targets. Volumes due before
 * asOf are reported apart: they can no longer be committed to.
 */
export function draftSla(
  sla: NonNullable<PlanInput['sla']>,
  unitId: string,
  targets: readonly PlannedTarget[],
  asOfMonth: string,
): SlaDraft {
  const months = new Map<string, { marketing: number; sales: number }>();
  const dueBeforeAsOf = { marketing: 0, sales: 0 };
  const add = (stage: string, side: 'marketing' | 'sales'): void => {
    for (const target of targets) {
      const calendar = target.calendar.find((entry) => entry.stage === stage);
      if (calendar === undefined) continue;
      dueBeforeAsOf[side] += calendar.dueBeforeAsOf;
      for (const { month, volume, dueBeforeAsOf: late } of calendar.months) {
        if (month < asOfMonth) continue;
        const row = months.get(month) ?? { marketing: 0, sales: 0 };
        row[side] += volume - late;
        months.set(month, row);
      }
    }
  };
  add(sla.marketingStage, 'marketing');
  add(sla.salesStage, 'sales');
  const rows = [...months.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([month, row]) => ({ month, ...row, repsNeeded: wholeUnitsAtLeast(row.sales / sla.repMonthlyCap) }));
  const committed = sla.mqlsPerMonth?.[unitId];
  return {
    marketingStage: sla.marketingStage,
    salesStage: sla.salesStage,
    repMonthlyCap: sla.repMonthlyCap,
    months: rows,
    peakRepsNeeded: rows.reduce((peak, row) => Math.max(peak, row.repsNeeded), 0),
    dueBeforeAsOf,
    marketingCommitment: committed === undefined ? null : { perMonth: committed, monthsShort: rows.filter((row) => row.marketing > committed).map((row) => row.month) },
  };
}

/**
 * A plan body's SLA section completed from the rules the caller runs under:
 * the marketing stage is the SLA's start stage and the commitment its
 * mqlsPerMonth, the same targets the SLA report checks. What the body says
 * wins; a body without an `sla` section asks for no draft and is returned as
 * it is.
 */
export function withRuleSlaTargets(body: unknown, rules: { startStage: string; mqlsPerMonth?: Readonly<Record<string, number>> } | undefined): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (rules === undefined || !isObject(body) || !isObject(body.sla)) return body;
  const fromRules = { marketingStage: rules.startStage, ...(rules.mqlsPerMonth === undefined ? {} : { mqlsPerMonth: rules.mqlsPerMonth }) };
  return { ...body, sla: { ...fromRules, ...body.sla } };
}
