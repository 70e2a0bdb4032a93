import type { WaterfallAnswer } from '@sluice/revenue';
import { DateTime } from 'luxon';
import { get } from '../api.js';
import { chart } from '../charts.js';
import { empty, field, h, num, select, show, table } from '../dom.js';
import { formatCount, formatMoney } from '../format.js';
import { WATERFALL_GROUP_CHOICES, WATERFALL_TERM_LABELS, hashOf, waterfallAddress, waterfallBars, waterfallQuery, waterfallStateOf } from '../revenue-state.js';
import type { WaterfallTerm } from '../revenue-state.js';
import { reloader } from '../view.js';
import type { View } from '../view.js';

type WaterfallRow = WaterfallAnswer['rows'][number];

/** The address of the last waterfall asked, so coming back to the view without one keeps it. */
let lastQuery = '';

const BAR_COLORS = { total: '#2563eb', inflow: '#10b981', outflow: '#ef4444' } as const;

/**
 * The pipeline waterfall of a period (GET /v1/waterfall): per currency, start
 * + created + pulled in + amount up - amount down - pushed out - lost - won =
 * end as a chart (summed over the groups: one currency) and a table with a
 * row per group; a term's cell lists the opportunities that make it. The
 * period and the grouping are kept in the address.
 */
export const waterfallView: View = async (root, ctx) => {
  const zone = ctx.rules.timeZone;
  const state = waterfallStateOf(ctx.params[0] || lastQuery, zone, DateTime.now());
  const body = h('section', { class: 'results' });

  const load = reloader(ctx, body, 'the waterfall', async () => {
    const query = waterfallQuery(state, zone);
    const answer = await get<WaterfallAnswer>(`/v1/waterfall?${query}`, ctx.signal);
    const currencies = [...new Set(answer.rows.map((r) => r.currency))].sort();
    const period = h('p', { class: 'note', 'data-testid': 'waterfall-period', 'data-query': query }, `Opportunities closing from ${local(answer.from)} to ${local(answer.to)} (end excluded)`);
    if (currencies.length === 0) return [period, empty('No opportunity was in the pipeline of this period.')];
    return [period, ...currencies.map((currency) => currencySection(answer, currency))];
  });

  const local = (iso: string) => DateTime.fromISO(iso, { zone }).toFormat('yyyy-MM-dd HH:mm ZZZZ');
  const sum = (rows: readonly WaterfallRow[], pick: (r: WaterfallRow) => number) => rows.reduce((total, r) => total + pick(r), 0);

  function currencySection(answer: WaterfallAnswer, currency: string) {
    const rows = answer.rows.filter((r) => r.currency === currency);
    const terms = Object.fromEntries(WATERFALL_TERM_LABELS.map(([term]) => [term, sum(rows, (r) => r[term].amount)])) as Record<WaterfallTerm, number>;
    const bars = waterfallBars(
      sum(rows, (r) => r.start.amount),
      terms,
      sum(rows, (r) => r.end.amount),
    );
    const picked = h('div', { class: 'waterfall-opportunities', 'data-testid': 'waterfall-opportunities' });
    const waterfall = chart(
      {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: (items: Array<{ dataIndex: number }>) => `${bars[items[0]?.dataIndex ?? 0]?.label}: ${formatMoney(bars[items[0]?.dataIndex ?? 0]?.value ?? 0)} ${currency}` },
        grid: { left: 70, right: 20, top: 20, bottom: 30 },
        xAxis: { type: 'category', data: bars.map((b) => b.label) },
        yAxis: { type: 'value' },
        series: [
          { name: 'base', type: 'bar', stack: 'waterfall', silent: true, itemStyle: { color: 'transparent' }, data: bars.map((b) => b.base) },
          { name: currency, type: 'bar', stack: 'waterfall', data: bars.map((b) => ({ value: b.value, itemStyle: { color: BAR_COLORS[b.kind] } })) },
        ],
      },
      300,
      `pipeline waterfall in ${currency}`,
    );
    const lines = rows.map((r) =>
      h(
        'tr',
        { 'data-group': r.group ?? '', 'data-currency': r.currency },
        h('th', { scope: 'row' }, answer.groupBy === null ? 'all' : (r.group ?? '(none)')),
        num('start.count', r.start.count, formatCount(r.start.count)),
        num('start', r.start.amount, formatMoney(r.start.amount)),
        WATERFALL_TERM_LABELS.map(([term, label, inflow]) =>
          h(
            'td',
            { class: 'num', 'data-field': term, 'data-value': r[term].amount },
            h('button', { type: 'button', class: 'term', title: `the opportunities ${label}`, onclick: () => show(picked, termList(r, term, label)) }, `${inflow ? '+' : '−'}${formatMoney(r[term].amount)}`),
          ),
        ),
        num('end', r.end.amount, formatMoney(r.end.amount)),
        num('end.count', r.end.count, formatCount(r.end.count)),
      ),
    );
    const groupLabel = WATERFALL_GROUP_CHOICES.find(([v]) => v === (answer.groupBy ?? ''))?.[1] ?? '';
    return h(
      'div',
      { 'data-testid': 'waterfall-currency', 'data-currency': currency },
      h('h2', {}, currency),
      waterfall,
      h('div', { class: 'scroll-x' }, table([answer.groupBy === null ? '' : groupLabel, 'open at start', 'start', ...WATERFALL_TERM_LABELS.map(([, label]) => label), 'end', 'open at end'], lines, { 'data-testid': 'waterfall-table' })),
      picked,
    );
  }

  function termList(row: WaterfallRow, term: WaterfallTerm, label: string) {
    const opportunities = row[term].opportunities;
    const group = row.group === null ? '' : ` of ${row.group}`;
    const heading = h('h3', {}, `${formatCount(opportunities.length)} opportunities ${label}${group} (${row.currency})`);
    if (opportunities.length === 0) return [heading, empty('None.')];
    const lines = opportunities.map((o) => h('tr', { 'data-opportunity': o.opportunityId }, h('th', { scope: 'row' }, o.opportunityId), h('td', {}, o.accountId), num('amount', o.amount, formatMoney(o.amount))));
    return [heading, h('div', { class: 'scroll-x' }, table(['opportunity', 'account', `amount (${row.currency})`], lines, { 'data-testid': 'waterfall-term', 'data-term': term, 'data-group': row.group ?? '', 'data-currency': row.currency }))];
  }

  const fromInput = h('input', { type: 'date', name: 'from', value: state.from, required: true, 'aria-label': 'from' });
  const toInput = h('input', { type: 'date', name: 'to', value: state.to, required: true, 'aria-label': 'to' });
  const groupMenu = select('groupBy', WATERFALL_GROUP_CHOICES, state.groupBy);
  const remember = () => {
    lastQuery = waterfallAddress(state);
    history.replaceState(null, '', hashOf('waterfall', lastQuery));
  };
  const changed = () => {
    // a half-typed date is not asked; a reversed period is, and the API's problem names the field
    if (!fromInput.value || !toInput.value) return;
    state.from = fromInput.value;
    state.to = toInput.value;
    state.groupBy = groupMenu.value;
    remember();
    void load();
  };
  for (const control of [fromInput, toInput, groupMenu]) control.addEventListener('change', changed);
  const form = h('form', { class: 'filters', 'aria-label': 'waterfall', onsubmit: (event) => event.preventDefault() }, field(`From (${zone})`, fromInput), field('To (included)', toInput), field('Group by', groupMenu));

  show(
    root,
    h('h1', {}, 'Waterfall'),
    h('p', { class: 'subtitle' }, 'How the pipeline of the period (open opportunities closing in it) went from its start to its end: start + created + pulled in + amount up − amount down − pushed out − lost − won = end.'),
    form,
    body,
  );
  remember();
  await load();
};
