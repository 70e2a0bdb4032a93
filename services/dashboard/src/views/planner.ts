import type { BusinessUnitPlan, PlannedTarget, ReversePlan } from '@sluice/planner';
import { post } from '../api.js';
import { chart } from '../charts.js';
import { field, h, num, select, show, table } from '../dom.js';
import { filterState } from '../filters.js';
import { formatCount, formatMoney, formatPercent } from '../format.js';
import { segmentValues } from '../queries.js';
import { nextQuarter, nowIso } from '../time.js';
import { reloader } from '../view.js';
import type { View } from '../view.js';

type Volume = PlannedTarget['volumes'][number];

const form = { revenue: '1000000', dealSize: '25000', currency: '', period: '', unit: 'all' };

/**
 * The reverse plan: a revenue target, a deal size, a period and a business
 * unit in; the volumes each stage needs (with P10/P50/P90 from the measured
 * rates' uncertainty), when they must arrive, and what a better rate at each
 * step would save. Rates and lags are measured by the server from the last
 * 12 months of cohorts.
 */
export const plannerView: View = async (root, ctx) => {
  const { stages, timeZone } = ctx.rules;
  form.period ||= nextQuarter(timeZone);
  const body = h('section', { class: 'results' });
  const revenue = h('input', { type: 'number', name: 'revenue', min: 0, step: 'any', required: true, value: form.revenue });
  const dealSize = h('input', { type: 'number', name: 'dealSize', min: 0, step: 'any', required: true, value: form.dealSize });
  const period = h('input', { type: 'text', name: 'period', required: true, pattern: '\\d{4}-(Q[1-4]|\\d{2})', value: form.period, title: 'a month like 2027-03 or a quarter like 2027-Q1' });
  // optional: the money of the deal size and the target; named, the server also measures the deal size in it and shows it beside the given one
  const currency = h('input', { type: 'text', name: 'currency', pattern: '[A-Z]{3}', maxlength: 3, size: 4, placeholder: 'any', value: form.currency, title: 'ISO 4217 code such as EUR (optional)' });
  const unit = select('unit', [['all', 'All units']], form.unit);
  const planForm = h('form', { class: 'filters' }, field('Revenue target', revenue), field('Deal size', dealSize), field('Currency', currency), field('Period', period), field('Business unit', unit), h('button', { type: 'submit' }, 'Plan'));

  const plan = reloader(ctx, body, 'the plan', async () => {
    Object.assign(form, { revenue: revenue.value, dealSize: dealSize.value, currency: currency.value.trim().toUpperCase(), period: period.value.trim(), unit: unit.value });
    const transitions = stages.slice(1).map((to, i) => ({ from: stages[i]!, to }));
    const result = await post<ReversePlan>(
      '/v1/plans/reverse',
      {
        asOf: nowIso(timeZone),
        timeZone,
        stageModel: { stages },
        businessUnits: [{ id: form.unit, dealSize: { given: Number(form.dealSize), ...(form.currency ? { currency: form.currency } : {}) }, transitions }],
        targets: [{ businessUnit: form.unit, period: form.period, revenue: Number(form.revenue) }],
      },
      ctx.signal,
    );
    const unitPlan = result.businessUnits[0]!;
    const target = unitPlan.targets[0]!;
    if (target.status === 'infeasible') {
      return h('div', { class: 'state error', role: 'alert', 'data-state': 'infeasible' }, h('strong', {}, `${target.period.label} cannot be planned:`), h('ul', {}, target.reasons.map((r) => h('li', {}, r.message))));
    }
    return [headline(target), bands(target.volumes), volumeTable(target.volumes), calendar(target), sensitivity(target), rates(unitPlan.rates), warnings([...unitPlan.warnings, ...target.warnings])];
  });

  const headline = (t: PlannedTarget) =>
    h(
      'div',
      { class: 'kpis' },
      h('div', { class: 'kpi', 'data-field': 'deals', 'data-value': t.deals }, h('span', {}, `deals in ${t.period.label}`), h('strong', {}, formatCount(t.deals))),
      h('div', { class: 'kpi' }, h('span', {}, 'revenue / deal size'), h('strong', {}, `${formatMoney(t.revenue)} / ${formatMoney(t.dealSize)}`)),
      h('div', { class: 'kpi', 'data-field': 'first', 'data-value': t.volumes[0]?.required ?? '' }, h('span', {}, `${t.volumes[0]?.stage ?? ''} needed`), h('strong', {}, formatCount(t.volumes[0]?.required))),
    );

  // P10-P90 as a box per stage, P50 and the point estimate as marks; log scale: visits outnumber deals by far
  const bands = (volumes: Volume[]) =>
    chart(
      {
        tooltip: { trigger: 'item' },
        legend: { top: 0, data: ['P10 – P90', 'P50', 'required'] },
        grid: { left: 90, right: 30, top: 30, bottom: 30 },
        xAxis: { type: 'log', min: 1 },
        yAxis: { type: 'category', data: volumes.map((v) => v.stage), inverse: true },
        series: [
          { name: 'P10 – P90', type: 'candlestick', barMaxWidth: 22, data: volumes.map((v) => [Math.max(1, v.p10), Math.max(1, v.p90), Math.max(1, v.p10), Math.max(1, v.p90)]), itemStyle: { color: 'rgba(37,99,235,0.25)', borderColor: '#2563eb', color0: 'rgba(37,99,235,0.25)', borderColor0: '#2563eb' } },
          { name: 'P50', type: 'scatter', symbol: 'diamond', symbolSize: 12, data: volumes.map((v) => [Math.max(1, v.p50), v.stage]) },
          { name: 'required', type: 'scatter', symbol: 'circle', symbolSize: 8, data: volumes.map((v) => [Math.max(1, v.required), v.stage]) },
        ],
      },
      Math.max(200, volumes.length * 44),
      'required volume per stage with P10 to P90 bands',
    );

  const volumeTable = (volumes: Volume[]) =>
    table(
      ['stage', 'required', 'P10', 'P50', 'P90'],
      volumes.map((v) => h('tr', { 'data-stage': v.stage }, h('th', { scope: 'row' }, v.stage), num('required', v.required, formatCount(v.required)), num('p10', v.p10, formatCount(v.p10)), num('p50', v.p50, formatCount(v.p50)), num('p90', v.p90, formatCount(v.p90)))),
      { 'data-testid': 'plan-volumes' },
    );

  function calendar(t: PlannedTarget) {
    const months = [...new Set(t.calendar.flatMap((c) => c.months.map((m) => m.month)))].sort();
    const peak = Math.max(1, ...t.calendar.flatMap((c) => c.months.map((m) => m.volume)));
    return h(
      'div',
      {},
      h('h2', {}, 'When each volume must arrive'),
      table(
        ['stage', ...months, 'overdue already'],
        t.calendar.map((c) =>
          h(
            'tr',
            { 'data-stage': c.stage },
            h('th', { scope: 'row' }, c.stage),
            months.map((m) => {
              const volume = c.months.find((x) => x.month === m)?.volume ?? 0;
              // shade by the stage's own scale relative to the busiest month
              return num(m, volume, formatCount(volume), { class: 'num cell', style: volume > 0 ? `background: rgba(16,185,129,${(0.1 + 0.6 * Math.sqrt(volume / peak)).toFixed(3)})` : undefined });
            }),
            num('overdue', c.dueBeforeAsOf, c.dueBeforeAsOf > 0 ? formatCount(c.dueBeforeAsOf) : '', { class: c.dueBeforeAsOf > 0 ? 'num breach' : 'num' }),
          ),
        ),
        { class: 'calendar', 'data-testid': 'plan-calendar' },
      ),
    );
  }

  function sensitivity(t: PlannedTarget) {
    const first = t.volumes[0]?.stage ?? '';
    const saved = (s: { saved: Array<{ stage: string; volume: number }> }) => s.saved.find((x) => x.stage === first)?.volume ?? 0;
    return h(
      'div',
      {},
      h('h2', {}, `What a better rate at each step saves in ${first} volume`),
      table(
        ['step', 'rate', '+1 point saves', '+10% relative saves'],
        t.sensitivity.map((s) => h('tr', { 'data-step': `${s.from}:${s.to}` }, h('th', { scope: 'row' }, `${s.from} → ${s.to}`), num('rate', s.baseRate, formatPercent(s.baseRate, 2)), num('byPoints', saved(s.byPoints), formatCount(saved(s.byPoints))), num('byRelative', saved(s.byRelative), formatCount(saved(s.byRelative))))),
        { 'data-testid': 'plan-sensitivity' },
      ),
    );
  }

  const rates = (list: BusinessUnitPlan['rates']) =>
    h(
      'details',
      {},
      h('summary', {}, 'Rates and lags the plan used'),
      table(
        ['step', 'rate', 'source', 'observations', 'mean lag (days)'],
        list.map((r) => h('tr', { class: r.lowEvidence ? 'low-evidence' : undefined }, h('th', { scope: 'row' }, `${r.from} → ${r.to}`), h('td', { class: 'num' }, formatPercent(r.rate, 2)), h('td', {}, r.source + (r.lowEvidence ? ' (few observations)' : '')), h('td', { class: 'num' }, r.observations ? `${formatCount(r.observations.converted)} / ${formatCount(r.observations.entered)}` : '–'), h('td', { class: 'num' }, r.lag.meanDays.toFixed(1)))),
      ),
    );

  const warnings = (list: string[]) => (list.length === 0 ? null : h('ul', { class: 'warnings' }, list.map((w) => h('li', {}, w))));

  planForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void plan();
  });
  show(root, h('h1', {}, 'Planner'), planForm, body);
  await plan();
  // after the first plan, answered or refused, so the menu never waits on a plan that failed and never delays the first numbers
  segmentValues(ctx.rules, 'businessUnit', filterState(ctx.rules).range, ctx.signal)
    .then((units) => unit.append(...units.map((u) => h('option', { value: u, selected: u === form.unit }, u))))
    .catch(() => undefined); // "all" still plans; the plan itself reports errors
};
