import { formatCount, formatPercent, formatTable } from '../../text.js';
import type { ActivityCloseRatesResult } from '../../close-rates.js';

export function formatCloseRates(result: ActivityCloseRatesResult): string {
  let out = `${formatCount(result.leads)} leads in the population, ${formatCount(result.customers)} became customers: average close rate ${formatPercent(result.averageCloseRate)}\n\n`;
  if (result.activities.length === 0) return out + 'no activity before becoming a customer in this population\n';
  const level = `${Math.round(result.confidence * 100)}% interval`;
  out += formatTable(
    ['rank', 'activity', 'leads', 'customers', 'close rate', level, 'lift'],
    result.activities.map((a) => [
      a.rank,
      a.value === '' ? a.type : `${a.type} = ${a.value}`,
      a.leads,
      a.customers,
      formatPercent(a.closeRate),
      `${formatPercent(a.interval.low)} - ${formatPercent(a.interval.high)}`,
      a.lift === null ? '-' : `${a.lift.toFixed(2)}x`,
    ]),
  );
  const { mqlRuleCandidates, scoreWeights, note } = result.suggestions;
  const named = (s: { type: string; value: string }) => (s.value === '' ? s.type : `${s.type} = ${s.value}`);
  out += `\nMQL rule candidates: ${mqlRuleCandidates.length === 0 ? 'none' : mqlRuleCandidates.map((c) => `${named(c)} (${c.lift.toFixed(1)}x)`).join(', ')}\n`;
  out += `score weights: ${scoreWeights.length === 0 ? 'none' : scoreWeights.map((w) => `${named(w)} ${w.points > 0 ? '+' : ''}${w.points}`).join(', ')}\n`;
  return out + `(${note})\n`;
}
