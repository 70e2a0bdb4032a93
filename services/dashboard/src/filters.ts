import type { StageCountingUnit } from '@sluice/domain';
import { field, h, select } from './dom.js';
import { segmentValues } from './queries.js';
import type { SegmentKey } from './queries.js';
import type { SegmentFilters } from './queries.js';
import type { LiveRules } from './rules.js';
import { comparisonRange, isMonth, lastMonths } from './time.js';
import type { MonthRange } from './time.js';
import type { ViewContext } from './view.js';

/** The filters the analysis views share: kept while the person moves between views. */
export interface FilterState {
  range: MonthRange;
  /** a second range to set beside the first (the funnel's comparison); null when off */
  compare: MonthRange | null;
  /** the comparison range the analyst typed; null while it follows the range (the previous months of equal length) */
  compareTyped: MonthRange | null;
  filters: SegmentFilters;
  /** a lead profile key to break the funnel down by; '' for none */
  segment: SegmentKey | '';
  /** who the stage funnel and the cohorts count: leads, or accounts (an account reaches a stage with its first lead) */
  unit: StageCountingUnit;
}

let state: FilterState | undefined;

export function filterState(rules: LiveRules): FilterState {
  state ??= { range: lastMonths(12, rules.timeZone), compare: null, compareTyped: null, filters: {}, segment: '', unit: 'lead' };
  return state;
}

/** Breakdowns offered: lead profile keys with a handful of values each. */
export const SEGMENTS: ReadonlyArray<readonly [SegmentKey | '', string]> = [
  ['', 'No breakdown'],
  ['businessUnit', 'Business unit'],
  ['channel', 'Channel'],
  ['source', 'Source'],
  ['role', 'Persona'],
  ['industry', 'Industry'],
  ['country', 'Country'],
];

/** The counting units, as the menu and the headings name them. */
export const COUNTING_UNITS: ReadonlyArray<readonly [StageCountingUnit, string]> = [
  ['lead', 'leads'],
  ['account', 'accounts'],
];

/** "leads" or "accounts": what a view's counts are of. */
export const unitNoun = (unit: StageCountingUnit): string => COUNTING_UNITS.find(([u]) => u === unit)![1];

const FILTER_MENUS: ReadonlyArray<readonly [key: keyof SegmentFilters, label: string, all: string]> = [
  ['businessUnit', 'Business unit', 'All units'],
  ['channel', 'Channel', 'All channels'],
];

function monthInputs(name: string, range: MonthRange): [HTMLInputElement, HTMLInputElement] {
  return [h('input', { type: 'month', name: `${name}From`, value: range.from, required: true }), h('input', { type: 'month', name: `${name}To`, value: range.to, required: true })];
}

const rangeOf = (from: HTMLInputElement, to: HTMLInputElement): MonthRange | undefined =>
  isMonth(from.value) && isMonth(to.value) && from.value <= to.value ? { from: from.value, to: to.value } : undefined;

/**
 * The filter bar: a month range, business unit and channel menus (filled
 * from the data once the view's own numbers are in; left out for queries that take no segment
 * filters), optionally the counting unit (for queries that take one), a comparison range and a breakdown. Every change updates
 * the shared state and calls `onChange`.
 */
export function filterBar(ctx: ViewContext, options: { compare?: boolean; segment?: boolean; rangeOnly?: boolean; unit?: boolean }, onChange: () => void): HTMLFormElement {
  const s = filterState(ctx.rules);
  const [from, to] = monthInputs('range', s.range);
  const menus = (options.rangeOnly ? [] : FILTER_MENUS).map(([key, label, all]) => {
    const menu = select(key, [['', all], ...(s.filters[key] ? [[s.filters[key], s.filters[key]] as const] : [])], s.filters[key] ?? '');
    ctx.shown
      .then(() => segmentValues(ctx.rules, key, s.range, ctx.signal))
      .then((values) => menu.replaceChildren(...[['', all] as const, ...values.map((v) => [v, v] as const)].map(([v, text]) => h('option', { value: v, selected: v === (s.filters[key] ?? '') }, text))))
      .catch(() => undefined); // the menu keeps "all"; the view's own query shows any error
    return { key, label, menu };
  });
  const form = h('form', { class: 'filters', 'aria-label': 'filters' }, field('From', from), field('To', to), menus.map((m) => field(m.label, m.menu)));

  const unit = options.unit ? select('unit', COUNTING_UNITS, s.unit) : undefined;
  if (unit) form.append(field('Count', unit));

  let compareFrom: HTMLInputElement | undefined;
  let compareTo: HTMLInputElement | undefined;
  let compareOn: HTMLInputElement | undefined;
  if (options.compare) {
    [compareFrom, compareTo] = monthInputs('compare', comparisonRange(s.range, ctx.rules.timeZone, s.compareTyped));
    compareOn = h('input', { type: 'checkbox', name: 'compare', checked: s.compare !== null });
    form.append(h('fieldset', { class: 'compare' }, h('label', { class: 'check' }, compareOn, ' Compare with'), compareFrom, compareTo));
  }
  let segment: HTMLSelectElement | undefined;
  if (options.segment) {
    segment = select('segment', SEGMENTS, s.segment);
    form.append(field('Break down by', segment));
  }

  form.addEventListener('change', (event) => {
    const range = rangeOf(from, to);
    if (range === undefined) return; // an unfinished month input; the next change completes it
    s.range = range;
    for (const m of menus) s.filters[m.key] = m.menu.value;
    if (compareOn && compareFrom && compareTo) {
      if (event.target === compareFrom || event.target === compareTo) {
        const typed = rangeOf(compareFrom, compareTo);
        if (typed === undefined) return; // an unfinished comparison: left as typed until the next change completes it
        s.compareTyped = typed;
      }
      const comparison = comparisonRange(range, ctx.rules.timeZone, s.compareTyped);
      compareFrom.value = comparison.from;
      compareTo.value = comparison.to;
      s.compare = compareOn.checked ? comparison : null;
    }
    // the menu's value is one of SEGMENTS' keys
    if (segment) s.segment = SEGMENTS.find(([key]) => key === segment.value)?.[0] ?? '';
    if (unit) s.unit = unit.value as StageCountingUnit;
    onChange();
  });
  form.addEventListener('submit', (event) => event.preventDefault());
  return form;
}
