/**
 * The event funnel an analyst builds (views/event-funnel.ts): the form's
 * state, that state in the URL so a funnel can be shared, and the body of
 * `POST /v1/funnels` it stands for. Pure: no DOM, no fetch.
 *
 * The lists and defaults below are the API's own (FunnelDefinitionSchema in
 * packages/analytics); the page keeps copies rather than importing them, which
 * would bring zod and the event schemas into the bundle.
 * funnel-state.test.ts checks each copy against its source.
 */
import type { QueryAnswer } from '@sluice/analytics/api';
import { dateRange } from './time.js';
import type { MonthRange } from './time.js';

/** The types a step or an exclusion may name: every event type but spend, which is about no one. */
export const STEP_TYPES: readonly string[] = [
  'ad_click', 'call', 'content_download', 'deal_lost', 'demo_held', 'demo_no_show', 'demo_requested', 'demo_scheduled', 'disqualified', 'email_click', 'email_open',
  'form_submit', 'identify', 'invoice', 'meeting', 'owner_assigned', 'page_view', 'payment', 'poc_started', 'quote', 'quote_accepted', 'referral', 'renewal',
  'sales_accepted', 'social_follow', 'trial_started', 'unsubscribe', 'upsell', 'visit', 'webinar_attended', 'webinar_registered',
];

/** Keys of the touchpoint envelope; any other key is `properties.<path>`. */
export const ENVELOPE_KEYS: readonly string[] = ['source', 'channel', 'campaign', 'accountId'];

export const ORDERS = ['ordered', 'strict', 'unordered'] as const;
export const WINDOW_UNITS = ['seconds', 'minutes', 'hours', 'days'] as const;

/** The counting choices, each with its choices, the default first. */
export const COUNTING_CHOICES = {
  windowAnchor: ['first_step', 'per_step'],
  ties: ['log_order', 'funnel_order'],
  dateScope: ['first_step', 'all_steps'],
  exclusionEffect: ['drop_out', 'remove'],
  entry: ['best', 'first'],
  reentry: ['true', 'false'],
  unit: ['leads', 'accounts', 'accounts_pooled', 'totals'],
  attribution: ['first_touch', 'last_touch', 'all_values'],
} as const;

export type CountingOptions = {
  windowAnchor: string;
  ties: string;
  dateScope: string;
  exclusionEffect: string;
  entry: string;
  reentry: boolean;
  unit: string;
  /** first_touch, last_touch, all_values or step:N */
  attribution: string;
};

export const COUNTING_DEFAULTS: CountingOptions = { windowAnchor: 'first_step', ties: 'log_order', dateScope: 'first_step', exclusionEffect: 'drop_out', entry: 'best', reentry: true, unit: 'leads', attribution: 'first_touch' };

/** The attributions a funnel of `steps` steps offers: the named ones, then step:0 to step:<steps - 1>. */
export const attributionChoices = (steps: number): string[] => [...COUNTING_CHOICES.attribution, ...Array.from({ length: steps }, (_, k) => `step:${k}`)];

/** One step as the form edits it: an event type, an optional label, an optional `key = value` condition, and whether a chain may skip it. */
// types rather than interfaces: the URL codec takes them as plain records
export type StepState = {
  type: string;
  label: string;
  whereKey: string;
  whereValue: string;
  optional: boolean;
};

/** Every step starts here: a new field of a step is added to this, to `stepBody`, and to the step row in the view. */
export const newStep = (type = 'visit'): StepState => ({ type, label: '', whereKey: '', whereValue: '', optional: false });

/** A step as the API takes it. A condition is sent once either half is filled, so a value without a key is the API's to refuse, naming the field. */
export function stepBody(step: StepState): Record<string, unknown> {
  return {
    type: step.type,
    ...(step.whereKey || step.whereValue ? { where: [{ key: step.whereKey, op: 'eq', value: step.whereValue }] } : {}),
    ...(step.label ? { label: step.label } : {}),
    ...(step.optional ? { optional: true } : {}),
  };
}

export type ExclusionState = {
  type: string;
  afterStep: number;
  beforeStep: number;
};

export const newExclusion = (): ExclusionState => ({ type: 'unsubscribe', afterStep: 0, beforeStep: 1 });

export interface FunnelState {
  steps: StepState[];
  range: MonthRange;
  order: string;
  windowValue: number;
  windowUnit: string;
  exclusions: ExclusionState[];
  /** up to three keys; none for no breakdown */
  breakdown: string[];
  /** add the previous period of the same length */
  compare: boolean;
  timeToConvert: boolean;
  /** a key every step must share with the first (`properties.dealId`); '' for none */
  holdConstant: string;
  /** seconds; 0: none */
  tieGraceSeconds: number;
  options: CountingOptions;
}

/** A first funnel to start from: website visit, form, demo request over `range`, within 30 days. */
export function defaultState(range: MonthRange): FunnelState {
  return {
    steps: [newStep('visit'), newStep('form_submit'), newStep('demo_requested')],
    range,
    order: 'ordered',
    windowValue: 30,
    windowUnit: 'days',
    exclusions: [],
    breakdown: [],
    compare: false,
    timeToConvert: false,
    holdConstant: '',
    tieGraceSeconds: 0,
    options: { ...COUNTING_DEFAULTS },
  };
}

/** The body of `POST /v1/funnels`: counting options only where they differ from the API's defaults. */
export function funnelBody(state: FunnelState, timeZone: string): Record<string, unknown> {
  const options = Object.entries(state.options).filter(([key, value]) => value !== COUNTING_DEFAULTS[key as keyof CountingOptions]);
  const [single, ...more] = state.breakdown;
  return {
    steps: state.steps.map(stepBody),
    order: state.order,
    window: { value: state.windowValue, unit: state.windowUnit },
    dateRange: dateRange(state.range, timeZone),
    ...(state.exclusions.length > 0 ? { exclusions: state.exclusions } : {}),
    ...(single === undefined ? {} : { breakdown: more.length > 0 ? state.breakdown : single }),
    ...(state.compare ? { compareTo: 'previous_period' } : {}),
    ...(state.timeToConvert ? { timeToConvert: true } : {}),
    ...(state.holdConstant ? { holdConstant: [state.holdConstant] } : {}),
    ...(state.tieGraceSeconds !== 0 ? { tieGraceSeconds: state.tieGraceSeconds } : {}),
    ...Object.fromEntries(options),
  };
}

// The URL: a query string of the fields that differ from a blank, e.g.
// `from=2026-01&to=2026-06&s0.type=visit&s1.type=form_submit&s1.whereKey=channel&s1.whereValue=email&unit=accounts`.
// Records go through one codec keyed by a blank of the record, so a field added
// to a step (or to the options) reaches the URL without more code here.

type Flat = Record<string, string | number | boolean>;

function writeFlat(params: URLSearchParams, prefix: string, value: Flat, blank: Flat): void {
  for (const [key, empty] of Object.entries(blank)) {
    const v = value[key]!;
    if (v !== empty) params.set(prefix + key, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
}

/** The record under `prefix`: each field parsed as the blank's field is typed; a missing or unreadable one keeps the blank's. */
function readFlat<T extends Flat>(params: URLSearchParams, prefix: string, blank: T): T {
  const out: Flat = { ...blank };
  for (const [key, empty] of Object.entries(blank)) {
    const text = params.get(prefix + key);
    if (text === null) continue;
    if (typeof empty === 'boolean') out[key] = text === '1';
    else if (typeof empty === 'number') out[key] = Number.isFinite(Number(text)) && text.trim() !== '' ? Number(text) : empty;
    else out[key] = text;
  }
  return out as T;
}

// list items always carry their type (a blank type of ''), which marks the item as present
const STEP_BLANK = { ...newStep(), type: '' };
const EXCLUSION_BLANK = { ...newExclusion(), type: '' };

function writeList(params: URLSearchParams, prefix: string, items: ReadonlyArray<Flat>, blank: Flat): void {
  items.forEach((item, i) => writeFlat(params, `${prefix}${i}.`, item, blank));
}

function readList<T extends Flat>(params: URLSearchParams, prefix: string, blank: T): T[] {
  const items: T[] = [];
  while (params.has(`${prefix}${items.length}.type`)) items.push(readFlat(params, `${prefix}${items.length}.`, blank));
  return items;
}

/** The settings that are neither lists nor options, flat, as the URL carries them. */
const settingsOf = (s: FunnelState) => ({ from: s.range.from, to: s.range.to, order: s.order, window: s.windowValue, windowUnit: s.windowUnit, compare: s.compare, timeToConvert: s.timeToConvert, hold: s.holdConstant, grace: s.tieGraceSeconds });

export function stateQuery(state: FunnelState): string {
  const params = new URLSearchParams({ from: state.range.from, to: state.range.to });
  writeFlat(params, '', settingsOf(state), settingsOf(defaultState(state.range)));
  writeList(params, 's', state.steps, STEP_BLANK);
  writeList(params, 'x', state.exclusions, EXCLUSION_BLANK);
  for (const key of state.breakdown) params.append('by', key);
  writeFlat(params, '', state.options, COUNTING_DEFAULTS);
  return params.toString();
}

/** The state a query string names; what it leaves out is the default state's over `range` (its steps only when it names none). */
export function stateFromQuery(query: string, range: MonthRange): FunnelState {
  const params = new URLSearchParams(query);
  const fallback = defaultState(range);
  const settings = readFlat(params, '', settingsOf(fallback));
  const steps = readList(params, 's', STEP_BLANK);
  return {
    steps: steps.length > 0 ? steps : fallback.steps,
    range: { from: settings.from, to: settings.to },
    order: settings.order,
    windowValue: settings.window,
    windowUnit: settings.windowUnit,
    exclusions: readList(params, 'x', EXCLUSION_BLANK),
    breakdown: params.getAll('by').filter(Boolean),
    compare: settings.compare,
    timeToConvert: settings.timeToConvert,
    holdConstant: settings.hold,
    tieGraceSeconds: settings.grace,
    options: readFlat(params, '', COUNTING_DEFAULTS),
  };
}

/**
 * The view's hash: the shell splits the hash on `/` and decodes each part
 * (main.ts), so every `%` of the query is escaped once more and the decoded
 * part is the query again, whatever the values hold.
 */
export const funnelHash = (state: FunnelState) => `#/event-funnel/${stateQuery(state).replaceAll('%', '%25')}`;

/** `POST /v1/funnels`'s answer, as the query registry declares it (FunnelResult, with its freshness). */
export type FunnelAnswer = QueryAnswer<'/v1/funnels'>;
/** The counts of one date range: the answer's, or its comparison's. */
export type FunnelCounts = Pick<FunnelAnswer, 'steps' | 'breakdown'>;

/** What a count counts, as the headings say it: `totals` counts every attempt; both account modes count accounts. */
export const unitNoun = (unit: string) => (unit === 'totals' ? 'attempts' : unit === 'accounts_pooled' ? 'accounts' : unit);

/** A breakdown group's value as read: several keys' values come as a JSON array. */
export function groupLabel(value: string, keys: readonly string[]): string {
  if (keys.length < 2) return value || '(none)';
  return (JSON.parse(value) as string[]).map((v) => v || '(none)').join(' · ');
}

/** Whether a form control (its definition path) is what a problem's field names, or part of it, or holds it. */
export const fieldsMeet = (control: string, problem: string) => problem !== '' && (control === problem || control.startsWith(`${problem}.`) || problem.startsWith(`${control}.`));
