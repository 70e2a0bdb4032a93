import { formatPercent, formatSpan, formatTable } from '../../text.js';
import type { FunnelResult } from '../../funnel.js';

const UNIT_HEADERS: Record<FunnelResult['unit'], string> = { leads: 'leads', accounts: 'accounts', accounts_pooled: 'accounts', totals: 'attempts' };

const stepName = (step: FunnelResult['steps'][number]) => `${step.label ?? step.type}${step.optional ? ' (optional)' : ''}`;

export function formatFunnel(result: FunnelResult): string {
  const table = (steps: FunnelResult['steps'] | NonNullable<FunnelResult['breakdown']>['groups'][number]['steps']) =>
    formatTable(
      ['step', 'event', UNIT_HEADERS[result.unit], 'from previous', 'from first', 'dropped'],
      steps.map((s, i) => [i + 1, stepName(result.steps[i]!), s.leads, formatPercent(s.conversionFromPrevious), formatPercent(s.conversionFromFirst), s.droppedFromPrevious]),
    );
  let out = table(result.steps);
  if (result.comparison) out += `\ncompared with ${result.comparison.dateRange.from} – ${result.comparison.dateRange.to}\n${table(result.comparison.steps)}`;
  if (result.breakdown) {
    for (const g of result.breakdown.groups) out += `\n${result.breakdown.key} = ${g.value === '' ? '(none)' : g.value}\n${table(g.steps)}`;
    if (result.breakdown.truncated) out += '\n(more groups exist; the totals above count them)\n';
  }
  if (result.timeToConvert) {
    const name = (k: number) => `${k + 1} ${result.steps[k]!.label ?? result.steps[k]!.type}`;
    out += `\ntime to convert\n${formatTable(
      ['from', 'to', 'converted', 'mean', 'median', 'p90'],
      result.timeToConvert.pairs.map((x) => [name(x.fromStep), name(x.toStep), x.total.converted, formatSpan(x.total.meanMs), formatSpan(x.total.medianMs), formatSpan(x.total.p90Ms)]),
    )}`;
  }
  return out;
}
