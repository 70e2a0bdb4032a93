import type { WinRatesResult } from '../../opportunity-queries.js';
import { formatPercent, formatTable } from '../../text.js';

export function formatWinRates(result: WinRatesResult): string {
  if (result.rows.length === 0) return 'no opportunity was won or lost in this range\n';
  const by = result.query.groupBy ?? 'all';
  return formatTable(
    [by, 'closed', 'won', 'lost', 'win rate'],
    result.rows.map((r) => [r.group ?? (result.query.groupBy === undefined ? 'all' : '(none)'), r.closed, r.won, r.lost, formatPercent(r.winRate)]),
  );
}
