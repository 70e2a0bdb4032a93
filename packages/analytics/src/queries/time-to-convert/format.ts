import { formatCount, formatPercent, formatSpan, formatTable } from '../../text.js';
import type { TimeToConvertResult } from '../../time-to-convert.js';

const endName = (end: unknown) => (typeof end === 'string' ? end : (end as { type: string }).type);
const BAR_WIDTH = 30;

/** ` [value]` after the title, unless the only segment is the empty one (no segment asked). */
const segmentTag = (segment: string, alone: boolean) => (segment === '' && alone ? '' : ` [${segment === '' ? '(none)' : segment}]`);

const truncation = (result: TimeToConvertResult) => (result.truncated ? `\n(${formatCount(result.segments)} segments had entries; the largest are shown)\n` : '');

export function formatTimeToConvert(result: TimeToConvertResult): string {
  const title = `${endName(result.query.from)} -> ${endName(result.query.to)}`;
  if (result.rows.length === 0) return `${title}: nothing entered ${endName(result.query.from)} in the date range\n`;
  if (result.query.period !== undefined) return formatTrend(result, title, result.query.period);
  let out = '';
  for (const row of result.rows) {
    out += `${out === '' ? '' : '\n'}${title}${segmentTag(row.segment, result.rows.length === 1)}: ${formatCount(row.converted)} of ${formatCount(row.entered)} converted (${formatPercent(row.converted / row.entered)}); `;
    out += `mean ${formatSpan(row.meanMs)}, median ${formatSpan(row.medianMs)}, p90 ${formatSpan(row.p90Ms)}\n`;
    if (result.buckets.length === 0) continue;
    const most = Math.max(1, ...row.histogram);
    out += formatTable(
      ['time', 'converted', 'share', ''],
      result.buckets.map((b, i) => {
        const n = row.histogram[i] ?? 0;
        return [b.label, n, formatPercent(row.converted === 0 ? null : n / row.converted), '#'.repeat(Math.round((n / most) * BAR_WIDTH))];
      }),
    );
  }
  return out + truncation(result);
}

/**
 * The trend, per segment: a row per period (entered, converted, statistics),
 * then the histogram with a column per period, so periods read across.
 */
function formatTrend(result: TimeToConvertResult, title: string, period: string): string {
  const segments = [...new Set(result.rows.map((r) => r.segment))].sort();
  let out = '';
  for (const segment of segments) {
    const rows = result.rows.filter((r) => r.segment === segment);
    out += `${out === '' ? '' : '\n'}${title}${segmentTag(segment, segments.length === 1)}: by ${period}\n`;
    out += formatTable(
      [period, 'entered', 'converted', 'rate', 'mean', 'median', 'p90'],
      rows.map((r) => [r.periodLabel ?? '', r.entered, r.converted, formatPercent(r.converted / r.entered), formatSpan(r.meanMs), formatSpan(r.medianMs), formatSpan(r.p90Ms)]),
    );
    if (result.buckets.length === 0) continue;
    out += `\nconverted by time taken\n`;
    out += formatTable(
      ['time', ...rows.map((r) => r.periodLabel ?? '')],
      result.buckets.map((b, i) => [b.label, ...rows.map((r) => r.histogram[i] ?? 0)]),
    );
  }
  return out + truncation(result);
}
