import type { PipelineAnswer } from '@sluice/revenue';
import { DateTime } from 'luxon';
import { get } from '../api.js';
import { chart } from '../charts.js';
import { empty, field, h, num, select, show, table } from '../dom.js';
import { formatCount, formatMoney } from '../format.js';
import { PIPELINE_GROUP_CHOICES, hashOf, pipelineAddress, pipelineQuery, pipelineStateOf } from '../revenue-state.js';
import { reloader } from '../view.js';
import type { View } from '../view.js';

type PipelineRow = PipelineAnswer['rows'][number];

/** The address of the last pipeline asked, so coming back to the view without one keeps it. */
let lastQuery = '';

const groupName = (group: string | null, groupBy: string | null) => (groupBy === null ? 'all' : (group ?? '(none)'));

/**
 * The open pipeline as of an instant (GET /v1/pipeline): per currency (amounts
 * in different currencies are never added) a bar chart of amount by group and
 * a table of count, amount, weighted amount and days in stage; the as-of
 * instant and the grouping are kept in the address.
 */
export const pipelineView: View = async (root, ctx) => {
  const zone = ctx.rules.timeZone;
  const state = pipelineStateOf(ctx.params[0] || lastQuery);
  const body = h('section', { class: 'results' });

  const load = reloader(ctx, body, 'the pipeline', async () => {
    const answer = await get<PipelineAnswer>(`/v1/pipeline?${pipelineQuery(state, zone, DateTime.now())}`, ctx.signal);
    const currencies = [...new Set(answer.rows.map((r) => r.currency))].sort();
    const asOf = h('p', { class: 'note', 'data-testid': 'pipeline-as-of', 'data-as-of': answer.asOf }, `As of ${DateTime.fromISO(answer.asOf, { zone }).toFormat('yyyy-MM-dd HH:mm ZZZZ')}`);
    if (currencies.length === 0) return [asOf, empty('No opportunity was open at that instant.')];
    return [asOf, ...currencies.map((currency) => currencySection(answer, currency))];
  });

  function currencySection(answer: PipelineAnswer, currency: string) {
    const rows = answer.rows.filter((r) => r.currency === currency);
    const name = (r: PipelineRow) => groupName(r.group, answer.groupBy);
    const bars = chart(
      {
        tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${formatMoney(v)} ${currency}` : '–') },
        legend: { top: 0 },
        grid: { left: 150, right: 40, top: 30, bottom: 30 },
        yAxis: { type: 'category', data: rows.map(name), inverse: true },
        xAxis: { type: 'value' },
        series: [
          { name: 'amount', type: 'bar', data: rows.map((r) => r.amount) },
          { name: 'weighted', type: 'bar', data: rows.map((r) => r.weightedAmount) },
        ],
      },
      Math.max(160, rows.length * 40 + 60),
      `pipeline amount by group in ${currency}`,
    );
    const lines = rows.map((r) =>
      h(
        'tr',
        { 'data-group': r.group ?? '', 'data-currency': r.currency },
        h('th', { scope: 'row' }, name(r)),
        num('count', r.count, formatCount(r.count)),
        num('amount', r.amount, formatMoney(r.amount)),
        num('weightedAmount', r.weightedAmount, formatMoney(r.weightedAmount)),
        num('meanDaysInStage', r.meanDaysInStage, r.meanDaysInStage.toFixed(1)),
        num('maxDaysInStage', r.maxDaysInStage, r.maxDaysInStage.toFixed(0)),
      ),
    );
    const groupLabel = PIPELINE_GROUP_CHOICES.find(([v]) => v === (answer.groupBy ?? ''))?.[1] ?? 'group';
    return h(
      'div',
      { 'data-testid': 'pipeline-currency', 'data-currency': currency },
      h('h2', {}, currency),
      bars,
      h('div', { class: 'scroll-x' }, table([answer.groupBy === null ? '' : groupLabel, 'open', `amount (${currency})`, `weighted (${currency})`, 'avg days in stage', 'max days in stage'], lines, { 'data-testid': 'pipeline-table' })),
    );
  }

  const asOfInput = h('input', { type: 'datetime-local', name: 'asOf', value: state.asOf, 'aria-label': 'as of' });
  const groupMenu = select('groupBy', PIPELINE_GROUP_CHOICES, state.groupBy);
  const nowButton = h('button', { type: 'button', class: 'small' }, 'now');
  const remember = () => {
    lastQuery = pipelineAddress(state);
    history.replaceState(null, '', hashOf('pipeline', lastQuery));
  };
  const changed = () => {
    state.asOf = asOfInput.value;
    state.groupBy = groupMenu.value;
    remember();
    void load();
  };
  asOfInput.addEventListener('change', changed);
  groupMenu.addEventListener('change', changed);
  nowButton.addEventListener('click', () => {
    asOfInput.value = '';
    changed();
  });
  const form = h('form', { class: 'filters', 'aria-label': 'pipeline', onsubmit: (event) => event.preventDefault() }, field(`As of (${zone}; empty: now)`, asOfInput), nowButton, field('Group by', groupMenu));

  show(root, h('h1', {}, 'Pipeline'), h('p', { class: 'subtitle' }, 'Open opportunities as their events up to the instant made them; weighted by the win probability of the stage they were in.'), form, body);
  remember();
  await load();
};
