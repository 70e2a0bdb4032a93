import { formatCount, formatPercent, formatSpan, formatTable } from '../../text.js';
import type { StageConversionResult } from '../../stage-conversion.js';

export function formatConversion(result: StageConversionResult): string {
  if (result.rows.length === 0) return 'no lead entered these stages in the date range\n';
  const segmented = result.rows.some((r) => r.segment !== '');
  const withOpen = result.rows.some((r) => r.open !== null);
  const headers = ['cohort', ...(segmented ? ['segment'] : []), 'entered', 'converted', 'rate', 'disqualified', 'recycled', ...(withOpen ? ['open'] : []), 'median', 'p90'];
  let out = '';
  result.pairs.forEach((pair, index) => {
    const rows = result.rows.filter((r) => r.pair === index);
    if (rows.length === 0) return;
    out += `${out === '' ? '' : '\n'}${pair.from} -> ${pair.to}\n`;
    out += formatTable(
      headers,
      rows.map((r) => [
        r.periodLabel,
        ...(segmented ? [r.segment === '' ? '(none)' : r.segment] : []),
        r.entered,
        r.converted,
        formatPercent(r.rate),
        r.disqualified,
        r.recycled,
        ...(withOpen ? [r.open ?? 0] : []),
        formatSpan(r.medianMs),
        formatSpan(r.p90Ms),
      ]),
    );
  });
  if (result.truncated) out += `\n(${formatCount(result.segments)} segments had entries; the largest are shown: raise segmentLimit for more)\n`;
  return out;
}
