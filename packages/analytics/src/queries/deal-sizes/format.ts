import type { DealSizesResult } from '../../opportunity-queries.js';
import { formatTable } from '../../text.js';

export function formatDealSizes(result: DealSizesResult): string {
  if (result.rows.length === 0) return 'no opportunity was won in this range\n';
  const money = (n: number) => Math.round(n);
  return formatTable(
    ['currency', 'won', 'total', 'average', 'median', 'p90'],
    result.rows.map((r) => [r.currency, r.won, money(r.total), money(r.average), money(r.median), money(r.p90)]),
  );
}
