import { formatCount, formatPercent, formatTable } from '../../text.js';
import type { ConversionDriversResult } from '../../conversion-drivers.js';

export function formatDrivers(result: ConversionDriversResult): string {
  let out = `${formatCount(result.leads)} leads entered, ${formatCount(result.converted)} converted: ${formatPercent(result.conversionRate)}\n\n`;
  if (result.drivers.length === 0) return out + 'no touchpoint or profile fact in this population\n';
  const level = `${Math.round(result.confidence * 100)}% interval`;
  const ratio = (x: number) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));
  out += formatTable(
    ['rank', 'feature', 'leads', 'rate with', 'rate without', 'odds ratio', level, 'p', 'q', 'effect'],
    result.drivers.map((d) => [
      d.rank,
      d.value === '' ? d.key : `${d.key} = ${d.value}`,
      d.leads,
      formatPercent(d.rateWith),
      formatPercent(d.rateWithout),
      d.oddsRatio === null ? '-' : ratio(d.oddsRatio),
      d.interval === null ? '-' : `${ratio(d.interval.low)} - ${ratio(d.interval.high)}`,
      d.pValue.toPrecision(2),
      d.qValue.toPrecision(2),
      d.effect,
    ]),
  );
  if (result.truncated) out += `\n(more features existed: the ${formatCount(result.drivers.length)} with the most leads were tested; raise featureLimit for more)\n`;
  return out + `\n(${result.note})\n`;
}
