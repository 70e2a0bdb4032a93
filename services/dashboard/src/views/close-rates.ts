import type { QueryAnswer } from '@sluice/analytics/api';
import { query } from '../api.js';
import { chart } from '../charts.js';
import { empty, h, num, show, table } from '../dom.js';
import { filterBar, filterState } from '../filters.js';
import { formatCount, formatPercent } from '../format.js';
import { dateRange } from '../time.js';
import { reloader } from '../view.js';
import type { View } from '../view.js';

type CloseRates = QueryAnswer<'/v1/close-rates'>;

/** Activities ranked by close rate (the lower bound of its interval), each against the average close rate of the population. */
export const closeRatesView: View = async (root, ctx) => {
  const body = h('section', { class: 'results' });
  const load = reloader(ctx, body, 'close rates', async () => {
    const r = await query('/v1/close-rates', { dateRange: dateRange(filterState(ctx.rules).range, ctx.rules.timeZone) }, ctx.signal);
    return r.activities.length === 0 ? empty('No leads of this range did anything yet.') : [summary(r), rateChart(r), rateTable(r)];
  });

  const activity = (a: CloseRates['activities'][number]) => (a.value ? `${a.type} (${a.value})` : a.type);

  function summary(r: CloseRates) {
    return h(
      'div',
      { class: 'kpis' },
      h('div', { class: 'kpi', 'data-field': 'leads', 'data-value': r.leads }, h('span', {}, 'leads in the population'), h('strong', {}, formatCount(r.leads))),
      h('div', { class: 'kpi', 'data-field': 'customers', 'data-value': r.customers }, h('span', {}, 'became customers'), h('strong', {}, formatCount(r.customers))),
      h('div', { class: 'kpi', 'data-field': 'average', 'data-value': r.averageCloseRate ?? '' }, h('span', {}, 'average close rate'), h('strong', {}, formatPercent(r.averageCloseRate, 2))),
    );
  }

  function rateChart(r: CloseRates) {
    const top = r.activities.slice(0, 15);
    return chart(
      {
        tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${v.toFixed(2)}%` : '–') },
        grid: { left: 150, right: 40, top: 10, bottom: 30 },
        yAxis: { type: 'category', data: top.map(activity), inverse: true },
        xAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
        series: [
          {
            name: 'close rate',
            type: 'bar',
            data: top.map((a) => ({ value: a.closeRate * 100, itemStyle: { color: a.aboveAverage ? '#10b981' : '#94a3b8' } })),
            markLine: r.averageCloseRate === null ? undefined : { symbol: 'none', label: { formatter: 'average' }, data: [{ xAxis: r.averageCloseRate * 100 }] },
          },
        ],
      },
      Math.max(220, top.length * 26 + 40),
      'close rate by activity',
    );
  }

  function rateTable(r: CloseRates) {
    const rows = r.activities.map((a) =>
      h(
        'tr',
        { 'data-activity': activity(a), class: a.aboveAverage ? 'above' : undefined },
        num('rank', a.rank, String(a.rank)),
        h('th', { scope: 'row' }, activity(a)),
        num('leads', a.leads, formatCount(a.leads)),
        num('customers', a.customers, formatCount(a.customers)),
        num('closeRate', a.closeRate, formatPercent(a.closeRate, 2)),
        h('td', { class: 'num' }, `${formatPercent(a.interval.low, 2)} – ${formatPercent(a.interval.high, 2)}`),
        num('lift', a.lift, a.lift === null ? '–' : `${a.lift.toFixed(2)}×`),
        h('td', {}, a.aboveAverage ? h('span', { class: 'badge good' }, 'above average') : '', a.mqlCandidate ? h('span', { class: 'badge' }, 'MQL-rule candidate') : ''),
      ),
    );
    return table(['rank', 'activity', 'leads', 'customers', 'close rate', `${Math.round(r.confidence * 100)}% interval`, 'lift', ''], rows, { 'data-testid': 'close-rates-table' });
  }

  show(root, h('h1', {}, 'Close rates'), h('p', { class: 'subtitle' }, 'Of the leads that entered the funnel in the range, how many of those who did each activity became customers.'), filterBar(ctx, { rangeOnly: true }, () => void load()), body);
  await load();
};
