import type { SalesCycleResult } from '../../opportunity-queries.js';
import { formatPercent, formatTable } from '../../text.js';

const days = (d: number | null) => (d === null ? '-' : `${d.toFixed(1)} d`);

export function formatSalesCycle(result: SalesCycleResult): string {
  const by = result.query.groupBy ?? 'all';
  let out =
    result.cycles.length === 0
      ? 'no opportunity was won in this range\n'
      : 'sales cycle (creation to win):\n' +
        formatTable(
          [by, 'won', 'mean', 'median', 'p90'],
          result.cycles.map((r) => [r.group ?? (result.query.groupBy === undefined ? 'all' : '(none)'), r.count, days(r.mean), days(r.median), days(r.p90)]),
        );
  if (result.stages.length === 0) return out;
  out += '\nstages (stays that ended in the range):\n';
  return (
    out +
    formatTable(
      ['stage', 'exits', 'mean', 'median', 'p90', 'went to'],
      result.stages.map((s) => [s.stage, s.exits, days(s.days.mean), days(s.days.median), days(s.days.p90), s.to.map((t) => `${t.next} ${formatPercent(t.share)}`).join(', ')]),
    )
  );
}
