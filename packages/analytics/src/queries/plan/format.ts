import type { ReversePlan, TargetPlan } from '@sluice/planner';
import { formatCount, formatPercent, formatTable } from '../../text.js';

function formatTarget(plan: ReversePlan, target: TargetPlan): string {
  const unit = plan.businessUnits.find((u) => u.id === target.businessUnit)!;
  const accounts = plan.unit === 'accounts';
  const head = `${target.period.label}, unit ${target.businessUnit}: revenue ${formatCount(target.revenue)}`;
  if (target.status === 'infeasible') return `${head}\n  infeasible because:\n${target.reasons.map((r) => `  - ${r.message}`).join('\n')}\n`;
  const size = unit.dealSize;
  const sizeNote = size.source === 'given' ? '' : ` (${size.source === 'measured' ? 'measured from' : 'given over the measurement of'} ${formatCount(size.observations ?? 0)} deals)`;
  let out = `${head} / deal size ${formatCount(target.dealSize)}${size.currency === null ? '' : ` ${size.currency}`}${sizeNote} = ${formatCount(target.deals)} deals\n`;
  // the volumes below count buying groups, not people: say so before the numbers
  out += accounts ? 'every volume counts accounts (an account enters a stage with its first lead)\n\n' : '\n';
  out += formatTable(
    ['stage', accounts ? 'accounts required' : 'required', 'P10', 'P50', 'P90'],
    target.volumes.map((v) => [v.stage, v.required, v.p10, v.p50, v.p90]),
  );
  out += '\n' + formatTable(
    ['step', 'rate', 'source', 'observations', 'mean lag (days)', 'note'],
    unit.rates.map((r) => [
      `${r.from} -> ${r.to}`,
      formatPercent(r.rate),
      r.source,
      r.observations ? `${r.observations.converted}/${r.observations.entered}` : '-',
      r.lag.meanDays.toFixed(1),
      r.lowEvidence ? 'few observations' : '',
    ]),
  );
  const months = [...new Set(target.calendar.flatMap((c) => c.months.map((m) => m.month)))].sort();
  out += '\nwhen each volume must arrive (by month, business time zone):\n';
  out += formatTable(['stage', ...months], target.calendar.map((c) => [c.stage, ...months.map((m) => c.months.find((x) => x.month === m)?.volume ?? 0)]));
  if (target.pipeline.held.length > 0) {
    out += `\nthe pipeline held now is expected to bring ${target.pipeline.expectedDeals.toFixed(1)} deals in the period; ${formatCount(target.pipeline.remainingDeals)} remain to be found:\n`;
    out += formatTable(
      ['stage', accounts ? 'accounts held now' : 'held now', 'chance to close in time', 'expected deals'],
      target.pipeline.held.map((h) => [h.stage, h.count, formatPercent(h.chanceToCloseInPeriod), h.expectedDeals.toFixed(1)]),
    );
    out += `new ${accounts ? 'accounts' : 'volume'} still needed: ${target.pipeline.newVolumes.map((v) => `${v.stage} ${formatCount(v.volume)}`).join(', ')}\n`;
  }
  const first = target.volumes[0]!.stage;
  out += `\nwhat a better rate at each step saves in ${first} volume:\n`;
  out += formatTable(
    ['step', 'rate', `+1 point saves`, `+10% relative saves`],
    target.sensitivity.map((s) => [`${s.from} -> ${s.to}`, formatPercent(s.baseRate), s.byPoints.saved.find((x) => x.stage === first)?.volume ?? 0, s.byRelative.saved.find((x) => x.stage === first)?.volume ?? 0]),
  );
  for (const w of [...unit.warnings, ...target.warnings]) out += `warning: ${w}\n`;
  return out;
}

/** A reverse plan as text: each target, its volumes, rates, calendar, pipeline and sensitivity (sluice plan prints it; --json the plan). */
export function formatPlan(plan: ReversePlan): string {
  return plan.businessUnits
    .flatMap((u) => u.targets)
    .map((t) => formatTarget(plan, t))
    .join('\n');
}
