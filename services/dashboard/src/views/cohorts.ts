import { chart } from '../charts.js';
import { empty, field, h, select, show, table } from '../dom.js';
import { filterBar, filterState, unitNoun } from '../filters.js';
import { formatCount, formatPercent } from '../format.js';
import { conversion } from '../queries.js';
import type { ConversionResult } from '../queries.js';
import { reloader } from '../view.js';
import type { View } from '../view.js';

type Granularity = 'month' | 'quarter' | 'week';
let granularity: Granularity = 'month';

/** White to blue by rate relative to the pair's best cohort: each column reads on its own scale. */
function heat(rate: number, best: number): string {
  const t = best > 0 ? rate / best : 0;
  return `background: rgba(37, 99, 235, ${(0.08 + 0.72 * t).toFixed(3)}); color: ${t > 0.6 ? '#fff' : 'inherit'}`;
}

/**
 * Step-to-step conversion per cohort (the period in which leads, or accounts,
 * entered the pair's first stage): a heatmap with a row per cohort and a
 * column per step, and the same rates as a trend over time.
 */
export const cohortsView: View = async (root, ctx) => {
  const body = h('section', { class: 'results' });
  const load = reloader(ctx, body, 'the cohorts', async () => {
    const s = filterState(ctx.rules);
    const result = await conversion(ctx.rules, { range: s.range, filters: s.filters, unit: s.unit, pairs: 'step_to_step', period: granularity }, ctx.signal);
    const periods = [...new Map(result.rows.map((r) => [r.period, r.periodLabel])).entries()].sort(([a], [b]) => a.localeCompare(b));
    if (periods.length === 0) return empty('No cohorts in this range with these filters.');
    const noun = unitNoun(s.unit);
    return [
      h('p', { class: 'subtitle', 'data-testid': 'cohort-caption' }, `Of the ${noun} entering each step's first stage in a ${granularity}, the share that reached the next; below it, how many entered.`),
      heatmap(result, periods, noun),
      h('h2', {}, 'Conversion trend'),
      trend(result, periods),
    ];
  });

  function heatmap(result: ConversionResult, periods: Array<[string, string]>, noun: string) {
    const best = result.pairs.map((_, i) => Math.max(0, ...result.rows.filter((r) => r.pair === i).map((r) => r.rate ?? 0)));
    const rows = periods.map(([period, periodLabel]) =>
      h(
        'tr',
        { 'data-period': periodLabel },
        h('th', { scope: 'row' }, periodLabel),
        result.pairs.map((pair, i) => {
          const row = result.rows.find((r) => r.pair === i && r.period === period);
          if (!row || row.rate === null) return h('td', { class: 'num cell', 'data-pair': `${pair.from}:${pair.to}`, 'data-value': '' }, '–');
          return h(
            'td',
            { class: 'num cell', style: heat(row.rate, best[i]!), 'data-pair': `${pair.from}:${pair.to}`, 'data-value': row.rate, 'data-entered': row.entered, title: `${formatCount(row.converted)} of ${formatCount(row.entered)} ${noun}` },
            formatPercent(row.rate),
            h('small', {}, formatCount(row.entered)),
          );
        }),
      ),
    );
    return table([`cohort (${noun})`, ...result.pairs.map((p) => `${p.from} → ${p.to}`)], rows, { class: 'heatmap', 'data-testid': 'cohort-heatmap' });
  }

  function trend(result: ConversionResult, periods: Array<[string, string]>) {
    return chart(
      {
        tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${v.toFixed(1)}%` : '–') },
        legend: { top: 0 },
        grid: { left: 50, right: 20, top: 40, bottom: 30 },
        xAxis: { type: 'category', data: periods.map(([, l]) => l) },
        yAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
        series: result.pairs.map((pair, i) => ({
          name: `${pair.from} → ${pair.to}`,
          type: 'line',
          connectNulls: false,
          data: periods.map(([period]) => {
            const rate = result.rows.find((r) => r.pair === i && r.period === period)?.rate;
            return rate === null || rate === undefined ? null : rate * 100;
          }),
        })),
      },
      300,
      'conversion trend',
    );
  }

  const periodMenu = select('granularity', [['month', 'Month'], ['quarter', 'Quarter'], ['week', 'ISO week']], granularity);
  const bar = filterBar(ctx, { unit: true }, () => {
    granularity = periodMenu.value as Granularity;
    void load();
  });
  bar.append(field('Cohort by', periodMenu));
  show(root, h('h1', {}, 'Cohorts'), bar, body);
  await load();
};
