import { formatPercent, formatTable } from '../../text.js';
import type { CostReportResult } from '../../cost-report.js';

const money = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const moneyOrDash = (n: number | null) => (n === null ? '-' : money(n));
const ratio = (n: number | null) => (n === null ? '-' : n.toFixed(2));

const EVENT_NAMES = { spend: ['spend row', 'spend rows'], revenue: ['revenue event', 'revenue events'] } as const;

/** What the report left out, one line each, for the text output (--json has the same as `excluded`). */
function formatExcluded(excluded: CostReportResult['excluded']): string {
  if (excluded.length === 0) return '';
  const lines = excluded.map((e) => `  ${e.events} ${EVENT_NAMES[e.measure][e.events === 1 ? 0 : 1]} in ${e.currency}${e.amount === null ? '' : ` (${money(e.amount)} ${e.currency})`}: ${e.reason}`);
  return `left out of every row and the total:\n${lines.join('\n')}\n`;
}

export function formatCost(result: CostReportResult): string {
  const q = result.query;
  const rates = Object.entries(result.currency.ratesUsed).map(([c, r]) => `1 ${c} = ${r} ${result.currency.report ?? ''}`);
  let out = `${q.attribution === 'first_touch' ? 'first-touch' : 'last-touch'} attribution by ${q.groupBy}; amounts in ${result.currency.report ?? '(none)'}${rates.length === 0 ? '' : ` (rates: ${rates.join(', ')})`}\n\n`;
  if (result.rows.length === 0) return out + 'no spend, leads or revenue in the date range\n';
  const row = (r: CostReportResult['total']) => [
    r.label,
    r.segment === '' ? '(none)' : r.segment,
    money(r.spend),
    r.leads,
    r.mqls,
    r.sqls,
    r.customers,
    money(r.revenue),
    moneyOrDash(r.costPerLead),
    moneyOrDash(r.costPerMql),
    moneyOrDash(r.costPerAcquisition),
    r.roi === null ? '-' : formatPercent(r.roi),
    ratio(r.paybackPeriods),
  ];
  out += formatTable(['period', q.groupBy, 'spend', 'leads', 'MQLs', 'SQLs', 'customers', 'revenue', 'per lead', 'per MQL', 'per customer', 'ROI', 'payback'], [...result.rows.map(row), ['total', '', ...row(result.total).slice(2)]]);
  out += `(-: nothing to divide by; payback = spend / revenue, in periods; --json gives the reason for each)\n`;
  return out + formatExcluded(result.excluded);
}
