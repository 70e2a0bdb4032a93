import type { VelocityResult } from '../../opportunity-queries.js';
import { formatPercent, formatTable } from '../../text.js';

const money = (n: number | null) => (n === null ? '-' : Math.round(n).toLocaleString('en-US'));

export function formatVelocity(result: VelocityResult): string {
  if (result.rows.length === 0) return 'no opportunity was created or closed in this range\n';
  return formatTable(
    ['currency', 'opportunities', 'avg won', 'win rate', 'cycle days', 'per day'],
    result.rows.map((r) => [r.currency, r.opportunities, money(r.averageWonAmount), formatPercent(r.winRate), r.cycleDays === null ? '-' : r.cycleDays.toFixed(1), money(r.perDay)]),
  );
}
