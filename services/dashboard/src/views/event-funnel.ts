import { DateTime } from 'luxon';
import { ApiError, post } from '../api.js';
import { chart } from '../charts.js';
import { empty, field, h, num, select, show, table } from '../dom.js';
import { filterState } from '../filters.js';
import { formatCount, formatDuration, formatPercent } from '../format.js';
import {
  COUNTING_CHOICES,
  COUNTING_DEFAULTS,
  ENVELOPE_KEYS,
  ORDERS,
  STEP_TYPES,
  WINDOW_UNITS,
  attributionChoices,
  fieldsMeet,
  funnelBody,
  funnelHash,
  groupLabel,
  newExclusion,
  newStep,
  stateFromQuery,
  stateQuery,
  unitNoun,
} from '../funnel-state.js';
import type { CountingOptions, FunnelAnswer, FunnelCounts, StepState } from '../funnel-state.js';
import { isMonth } from '../time.js';
import { reloader } from '../view.js';
import type { View } from '../view.js';

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The last funnel shown: the menu link (#/event-funnel, no query) comes back to it. */
let lastQuery = '';

const OPTION_LABELS: Record<keyof CountingOptions, string> = {
  unit: 'Count',
  attribution: 'Breakdown value from',
  windowAnchor: 'Window from',
  ties: 'Events at one instant',
  dateScope: 'Date range applies to',
  exclusionEffect: 'An exclusion',
  entry: 'Attempt counted',
  reentry: 'Re-entry',
};

/** A menu whose value is always among its options (a value from a hand-edited URL is shown as it is, for the API to judge). */
function menu(name: string, choices: readonly string[], value: string, fieldPath: string, extra: { defaultChoice?: string; label?: string } = {}): HTMLSelectElement {
  const all = choices.includes(value) ? choices : [...choices, value];
  const el = select(name, all.map((c) => [c, c === extra.defaultChoice ? `${c} (default)` : c] as const), value);
  el.dataset.field = fieldPath;
  if (extra.label) el.setAttribute('aria-label', extra.label);
  return el;
}

/**
 * An event funnel built on the page: steps over touchpoint types (each with
 * an optional `key = value` condition), the window, the months, the order,
 * exclusions, a breakdown, a comparison with the previous period, time to
 * convert, a held key and every counting option of `POST /v1/funnels`, all
 * kept in the hash (funnel-state.ts) so the address shares the funnel.
 */
export const eventFunnelView: View = async (root, ctx) => {
  const state = stateFromQuery(ctx.params[0] || lastQuery, filterState(ctx.rules).range);
  const form = h('form', { class: 'builder', 'aria-label': 'funnel definition', onsubmit: (event) => event.preventDefault() });
  const body = h('section', { class: 'results' });
  let asked = 0;

  const load = reloader(ctx, body, 'the funnel', async () => {
    const mine = ++asked;
    markInvalid([]);
    try {
      return answer(await post<FunnelAnswer>('/v1/funnels', funnelBody(state, ctx.rules.timeZone), ctx.signal));
    } catch (err) {
      if (mine === asked && err instanceof ApiError) markInvalid(err.problem?.errors?.map((e) => e.field) ?? []);
      throw err;
    }
  });

  /** After every edit: the address follows (without a new history entry or a re-render by the shell), the funnel is counted again. */
  function changed(rebuild = false): void {
    remember();
    if (rebuild) renderForm();
    void load();
  }

  function markInvalid(fields: readonly string[]): void {
    for (const el of form.querySelectorAll<HTMLElement>('[data-field]')) el.toggleAttribute('aria-invalid', fields.some((f) => fieldsMeet(el.dataset.field!, f)));
  }

  /** A control bound to the state: `set` takes its value, as typed, on every change. */
  function bind<E extends HTMLInputElement | HTMLSelectElement>(el: E, set: (value: string, el: E) => void): E {
    el.addEventListener('change', () => {
      set(el.value, el);
      changed();
    });
    return el;
  }

  const input = (name: string, value: string | number, fieldPath: string, attrs: Record<string, string | number> = {}) => h('input', { name, value, 'data-field': fieldPath, ...attrs });
  const button = (text: string, label: string, onclick: () => void, disabled = false) => h('button', { type: 'button', class: 'small', 'aria-label': label, disabled, onclick }, text);

  function move<T>(list: T[], from: number, to: number): void {
    list.splice(to, 0, ...list.splice(from, 1));
    changed(true);
  }

  /** The one place a step's row is made: a new step field gets its control here (and its body in funnel-state.ts stepBody). */
  function stepRow(step: StepState, i: number, steps: StepState[]): HTMLLIElement {
    const n = `Step ${i + 1}`;
    return h(
      'li',
      { 'data-step': i },
      bind(menu(`s${i}.type`, STEP_TYPES, step.type, `steps.${i}.type`, { label: `${n} event type` }), (v) => (step.type = v)),
      bind(input(`s${i}.label`, step.label, `steps.${i}.label`, { placeholder: 'label', 'aria-label': `${n} label` }), (v) => (step.label = v)),
      h('span', { class: 'where' }, 'where'),
      bind(input(`s${i}.whereKey`, step.whereKey, `steps.${i}.where.0.key`, { placeholder: 'key', list: 'funnel-keys', 'aria-label': `${n} condition key` }), (v) => (step.whereKey = v.trim())),
      '=',
      bind(input(`s${i}.whereValue`, step.whereValue, `steps.${i}.where.0.value`, { placeholder: 'value', 'aria-label': `${n} condition value` }), (v) => (step.whereValue = v)),
      h('label', { class: 'check' }, bind(h('input', { type: 'checkbox', name: `s${i}.optional`, checked: step.optional, 'data-field': `steps.${i}.optional`, 'aria-label': `${n} optional` }), (_, el) => (step.optional = el.checked)), ' optional'),
      button('↑', `Move ${n} up`, () => move(steps, i, i - 1), i === 0),
      button('↓', `Move ${n} down`, () => move(steps, i, i + 1), i === steps.length - 1),
      button('✕', `Remove ${n}`, () => (steps.splice(i, 1), changed(true)), steps.length === 1),
    );
  }

  function stepsEditor(): HTMLElement {
    return h(
      'fieldset',
      { class: 'filters steps' },
      h('legend', {}, 'Steps'),
      h('ol', {}, state.steps.map((s, i) => stepRow(s, i, state.steps))),
      button('Add step', 'Add step', () => (state.steps.push(newStep(state.steps.at(-1)?.type)), changed(true))),
    );
  }

  function settings(): HTMLElement {
    const month = (name: 'from' | 'to') =>
      bind(input(name === 'from' ? 'rangeFrom' : 'rangeTo', state.range[name], `dateRange.${name}`, { type: 'month' }), (v) => {
        if (isMonth(v)) state.range[name] = v; // an unfinished month input: the next change completes it
      });
    const check = (name: 'compare' | 'timeToConvert', text: string, fieldPath: string) =>
      h('label', { class: 'check' }, bind(h('input', { type: 'checkbox', name, checked: state[name], 'data-field': fieldPath }), (_, el) => (state[name] = el.checked)), text);
    const breakdownKey = (i: number) =>
      bind(input(`by${i}`, state.breakdown[i] ?? '', `breakdown.${i}`, { list: 'funnel-keys', placeholder: i === 0 ? 'none' : `key ${i + 1}`, 'aria-label': `Breakdown key ${i + 1}` }), () => {
        state.breakdown = [...form.querySelectorAll<HTMLInputElement>('input[name^="by"]')].map((el) => el.value.trim()).filter(Boolean);
      });
    return h(
      'fieldset',
      { class: 'filters' },
      h('legend', {}, 'Funnel'),
      field('From', month('from')),
      field('To', month('to')),
      field('Order', bind(menu('order', ORDERS, state.order, 'order', { defaultChoice: 'ordered' }), (v) => (state.order = v))),
      field('Window', bind(input('window', state.windowValue, 'window.value', { type: 'number', min: 1, step: 1 }), (v) => (state.windowValue = Number(v)))),
      field('Window unit', bind(menu('windowUnit', WINDOW_UNITS, state.windowUnit, 'window.unit'), (v) => (state.windowUnit = v))),
      field('Break down by', h('span', { class: 'keys' }, [0, 1, 2].map(breakdownKey))),
      field('Tie grace (s)', bind(input('grace', state.tieGraceSeconds, 'tieGraceSeconds', { type: 'number', min: 0, step: 1, 'aria-label': 'Tie grace in seconds' }), (v) => (state.tieGraceSeconds = Number(v)))),
      field('Hold constant', bind(input('hold', state.holdConstant, 'holdConstant', { list: 'funnel-keys', placeholder: 'none', 'aria-label': 'Hold constant key' }), (v) => (state.holdConstant = v.trim()))),
      check('compare', ' Compare with the previous period', 'compareTo'),
      check('timeToConvert', ' Time to convert', 'timeToConvert'),
    );
  }

  function exclusionsEditor(): HTMLElement {
    const stepIndex = (name: string, label: string, value: number, fieldPath: string, set: (v: number) => void) =>
      bind(input(name, value, fieldPath, { type: 'number', min: 0, step: 1, 'aria-label': label }), (v) => set(Number(v)));
    return h(
      'fieldset',
      { class: 'filters exclusions' },
      h('legend', {}, 'Exclusions'),
      h(
        'ol',
        {},
        state.exclusions.map((x, i) =>
          h(
            'li',
            { 'data-exclusion': i },
            bind(menu(`x${i}.type`, STEP_TYPES, x.type, `exclusions.${i}.type`, { label: `Exclusion ${i + 1} event type` }), (v) => (x.type = v)),
            ' after step ',
            stepIndex(`x${i}.afterStep`, `Exclusion ${i + 1} after step`, x.afterStep, `exclusions.${i}.afterStep`, (v) => (x.afterStep = v)),
            ' before step ',
            stepIndex(`x${i}.beforeStep`, `Exclusion ${i + 1} before step`, x.beforeStep, `exclusions.${i}.beforeStep`, (v) => (x.beforeStep = v)),
            button('✕', `Remove exclusion ${i + 1}`, () => (state.exclusions.splice(i, 1), changed(true))),
          ),
        ),
      ),
      h('small', {}, 'Steps are numbered from 0 here, as in the API.'),
      button('Add exclusion', 'Add exclusion', () => (state.exclusions.push(newExclusion()), changed(true))),
    );
  }

  function optionsPanel(): HTMLElement {
    const options = state.options;
    const control = (key: keyof CountingOptions) => {
      const choices = key === 'attribution' ? attributionChoices(state.steps.length) : COUNTING_CHOICES[key];
      return field(OPTION_LABELS[key], bind(menu(key, choices, String(options[key]), key, { defaultChoice: String(COUNTING_DEFAULTS[key]) }), (v) => Object.assign(options, { [key]: key === 'reentry' ? v === 'true' : v })));
    };
    return h('fieldset', { class: 'filters options' }, h('legend', {}, 'Counting options'), (Object.keys(OPTION_LABELS) as Array<keyof CountingOptions>).map(control));
  }

  function renderForm(): void {
    show(form, stepsEditor(), settings(), exclusionsEditor(), optionsPanel(), h('datalist', { id: 'funnel-keys' }, [...ENVELOPE_KEYS, 'properties.'].map((k) => h('option', { value: k }))));
  }

  const stepName = (i: number) => {
    const step = state.steps[i];
    return `${i + 1}. ${step?.label || step?.type || ''}${step?.optional ? ' (optional)' : ''}`;
  };

  function answer(result: FunnelAnswer): Array<HTMLElement | null> | HTMLElement {
    const noun = unitNoun(result.unit);
    const compared = result.comparison;
    if (result.steps[0]!.leads === 0 && (compared?.steps[0]!.leads ?? 0) === 0) return empty(`No ${noun} reached the first step in these months.`);
    return [
      h('h2', {}, `${capitalised(noun)} at each step`),
      stepsChart(result, noun),
      stepsTable(result, noun),
      result.breakdown ? groupsTable(result.breakdown, noun) : null,
      result.timeToConvert ? timesTable(result, noun) : null,
    ];
  }

  /** The comparison's days as the business reads them: previous_period is as long in time as the range, so it need not be whole months. */
  const day = (iso: string, shiftMs = 0) => DateTime.fromMillis(Date.parse(iso) + shiftMs, { zone: ctx.rules.timeZone }).toFormat('yyyy-MM-dd');
  const rangeLabel = (r: { from: string; to: string }) => `${day(r.from)} – ${day(r.to, -1)}`;

  function stepsChart(result: FunnelAnswer, noun: string): HTMLElement {
    const bars = (name: string, counts: FunnelCounts) => ({ name, type: 'bar', data: counts.steps.map((s) => s.leads), label: { show: true, position: 'top' } });
    const series = [bars(`${state.range.from} – ${state.range.to}`, result), ...(result.comparison ? [bars(rangeLabel(result.comparison.dateRange), result.comparison)] : [])];
    return chart(
      {
        tooltip: { trigger: 'axis' },
        legend: { show: series.length > 1, top: 0 },
        grid: { left: 60, right: 20, top: 36, bottom: 30 },
        xAxis: { type: 'category', data: result.steps.map((_, i) => stepName(i)) },
        yAxis: { type: 'value', name: noun },
        series,
      },
      280,
      'event funnel',
    );
  }

  function stepsTable(result: FunnelAnswer, noun: string): HTMLTableElement {
    const other = result.comparison?.steps;
    const rows = result.steps.map((s, i) =>
      h(
        'tr',
        { 'data-step': i },
        h('th', { scope: 'row' }, stepName(i)),
        num('leads', s.leads, formatCount(s.leads)),
        num('fromPrevious', s.conversionFromPrevious, i === 0 ? '' : formatPercent(s.conversionFromPrevious)),
        num('fromFirst', s.conversionFromFirst, formatPercent(s.conversionFromFirst)),
        num('dropped', s.droppedFromPrevious, i === 0 ? '' : formatCount(s.droppedFromPrevious)),
        other ? num('compareLeads', other[i]!.leads, formatCount(other[i]!.leads)) : null,
        other ? num('compareFromFirst', other[i]!.conversionFromFirst, formatPercent(other[i]!.conversionFromFirst)) : null,
      ),
    );
    const headers = ['step', noun, 'from previous', 'from first', 'dropped', ...(other ? [`${noun} (previous period)`, 'from first (previous period)'] : [])];
    return table(headers, rows, { 'data-testid': 'event-funnel-table' });
  }

  function groupsTable(breakdown: NonNullable<FunnelAnswer['breakdown']>, noun: string): HTMLElement {
    const rows = breakdown.groups.map((g) =>
      h(
        'tr',
        { 'data-group': g.value },
        h('th', { scope: 'row' }, groupLabel(g.value, breakdown.keys)),
        g.steps.map((s, i) => num(`step${i}`, s.leads, formatCount(s.leads))),
        num('fromFirst', g.steps.at(-1)!.conversionFromFirst, formatPercent(g.steps.at(-1)!.conversionFromFirst)),
      ),
    );
    return h(
      'div',
      {},
      h('h2', {}, `${capitalised(noun)} by ${breakdown.keys.join(', ')}`),
      breakdown.overlapping ? h('p', { class: 'note', 'data-note': 'overlapping' }, `Under all_values a unit counts in the group of every value it had: groups overlap, and may add up to more ${noun} than the totals.`) : null,
      breakdown.truncated ? h('p', { class: 'note', 'data-note': 'truncated' }, `Only the ${breakdown.groups.length} largest groups are shown; the totals above count every one.`) : null,
      table([breakdown.keys.join(' · '), ...state.steps.map((_, i) => stepName(i)), 'overall'], rows, { 'data-testid': 'event-funnel-groups' }),
    );
  }

  function timesTable(result: FunnelAnswer, noun: string): HTMLElement {
    const rows = result.timeToConvert!.pairs.map((p) =>
      h(
        'tr',
        { 'data-pair': `${p.fromStep}-${p.toStep}` },
        h('th', { scope: 'row' }, `${stepName(p.fromStep)} → ${stepName(p.toStep)}`),
        num('converted', p.total.converted, formatCount(p.total.converted)),
        num('median', p.total.medianMs, formatDuration(p.total.medianMs)),
        num('p90', p.total.p90Ms, formatDuration(p.total.p90Ms)),
      ),
    );
    return h('div', {}, h('h2', {}, 'Time to convert'), table(['between', `${noun} converted`, 'median', 'p90'], rows, { 'data-testid': 'event-funnel-times' }));
  }

  function remember(): void {
    lastQuery = stateQuery(state);
    history.replaceState(null, '', funnelHash(state));
  }

  renderForm();
  show(root, h('h1', {}, 'Event funnel'), form, body);
  remember();
  await load();
};
