import { formatCount, formatPercent, formatTable } from '../../text.js';
import type { RetentionCohortsResult } from '../../retention-cohorts.js';

/** A period after the as-of instant: it has not happened, so it is neither retention nor churn. */
const NOT_YET_BEGUN = '-';

export function formatCohorts(result: RetentionCohortsResult): string {
  if (result.cohorts.length === 0) return 'no first purchase in the date range\n';
  const segmented = result.cohorts.some((c) => c.segment !== '');
  const unit = result.query.period === 'quarter' ? 'Q' : 'M';
  const offsets = Array.from({ length: result.query.offsets + 1 }, (_, k) => `${unit}${k}`);
  // by account, a customer is an account: say so, as the plan does
  let out = `${result.query.unit === 'accounts' ? 'accounts' : 'customers'} by first ${result.query.purchaseTypes.join('/')}, share with a ${result.query.retentionTypes.join('/')} in each ${result.query.period} since\n`;
  out += formatTable(
    ['cohort', ...(segmented ? ['segment'] : []), 'customers', ...offsets],
    result.cohorts.map((c) => [c.periodLabel, ...(segmented ? [c.segment === '' ? '(none)' : c.segment] : []), c.customers, ...c.rates.map((r) => (r === null ? NOT_YET_BEGUN : formatPercent(r)))]),
  );
  if (result.truncated) out += `\n(${formatCount(result.segments)} segments had customers; the largest are shown)\n`;
  return out;
}
