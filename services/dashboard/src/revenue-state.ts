/**
 * The pipeline and waterfall views' state (views/pipeline.ts,
 * views/waterfall.ts): the form's values, those values in the address so a
 * view can be shared, and the query string of `GET /v1/pipeline` and
 * `GET /v1/waterfall` they stand for. Pure: no DOM, no fetch.
 *
 * The group and term lists are @sluice/revenue's (PIPELINE_GROUPS,
 * WATERFALL_GROUPS, WATERFALL_TERMS); the page keeps copies rather than
 * importing them, which would bring zod and the domain into the bundle.
 * revenue-state.test.ts checks each copy against its source.
 */
import { DateTime } from 'luxon';

export const PIPELINE_GROUP_CHOICES: ReadonlyArray<readonly [value: string, label: string]> = [
  ['', 'No grouping'],
  ['stage', 'Stage'],
  ['category', 'Forecast category'],
  ['owner', 'Owner'],
  ['businessUnit', 'Business unit'],
  ['segment', 'Segment'],
];

export const WATERFALL_GROUP_CHOICES: ReadonlyArray<readonly [value: string, label: string]> = [
  ['', 'No grouping'],
  ['owner', 'Owner'],
  ['businessUnit', 'Business unit'],
  ['segment', 'Segment'],
];

/** The terms between start and end, in the order the identity adds them; inflows raise the pipeline, the rest lower it. */
export const WATERFALL_TERM_LABELS: ReadonlyArray<readonly [term: WaterfallTerm, label: string, inflow: boolean]> = [
  ['created', 'created', true],
  ['pulledIn', 'pulled in', true],
  ['amountUp', 'amount up', true],
  ['amountDown', 'amount down', false],
  ['pushedOut', 'pushed out', false],
  ['lost', 'lost', false],
  ['won', 'won', false],
];
export type WaterfallTerm = 'created' | 'pulledIn' | 'amountUp' | 'amountDown' | 'pushedOut' | 'lost' | 'won';

export interface PipelineState {
  /** `yyyy-MM-ddTHH:mm` in the business time zone, as `<input type="datetime-local">` holds it; '' for now */
  asOf: string;
  /** one of PIPELINE_GROUP_CHOICES; '' for none */
  groupBy: string;
}

export interface WaterfallState {
  /** first and last day of the period, both included, `yyyy-MM-dd` in the business time zone */
  from: string;
  to: string;
  groupBy: string;
}

const iso = (d: DateTime) => d.toISO({ suppressMilliseconds: true }) ?? '';
const day = (s: string, zone: string) => DateTime.fromFormat(s, 'yyyy-MM-dd', { zone });
const known = (choices: ReadonlyArray<readonly [string, string]>, value: string | null) => (value !== null && choices.some(([v]) => v === value) ? value : '');

/** The pipeline query string: asOf always sent (now, read here, when the form says now), so the page and the answer name the same instant. */
export function pipelineQuery(state: PipelineState, zone: string, now: DateTime): string {
  const asOf = state.asOf ? DateTime.fromFormat(state.asOf, "yyyy-MM-dd'T'HH:mm", { zone }) : now;
  const params = new URLSearchParams({ asOf: iso(asOf.isValid ? asOf.setZone(zone) : now.setZone(zone)) });
  if (state.groupBy) params.set('groupBy', state.groupBy);
  return params.toString();
}

/** The current quarter in the business time zone, as its first and last day. */
export function thisQuarter(zone: string, now: DateTime): { from: string; to: string } {
  const start = now.setZone(zone).startOf('quarter');
  return { from: start.toFormat('yyyy-MM-dd'), to: start.plus({ months: 3 }).minus({ days: 1 }).toFormat('yyyy-MM-dd') };
}

/** The waterfall query string: [local midnight of from, local midnight after to). */
export function waterfallQuery(state: WaterfallState, zone: string): string {
  const params = new URLSearchParams({ from: iso(day(state.from, zone)), to: iso(day(state.to, zone).plus({ days: 1 })) });
  if (state.groupBy) params.set('groupBy', state.groupBy);
  return params.toString();
}

const isDay = (s: string | null): s is string => s !== null && /^\d{4}-\d{2}-\d{2}$/.test(s) && DateTime.fromFormat(s, 'yyyy-MM-dd').isValid;
const isLocalTime = (s: string | null): s is string => s !== null && DateTime.fromFormat(s, "yyyy-MM-dd'T'HH:mm").isValid;

/**
 * A view's hash: the shell splits the hash on `/` and decodes each part
 * (main.ts), so every `%` of the query is escaped once more and the decoded
 * part is the query again.
 */
export const hashOf = (view: string, address: string) => `#/${view}/${address.replaceAll('%', '%25')}`;

/** The pipeline's part of the address (`asOf=2026-06-01T00:00&by=stage`). */
export function pipelineAddress(state: PipelineState): string {
  const params = new URLSearchParams();
  if (state.asOf) params.set('asOf', state.asOf);
  // always written: no grouping (by=) is not the default (by stage)
  params.set('by', state.groupBy);
  return params.toString();
}

/** The state the address names; what it leaves out or cannot be read is the default (now, by stage). */
export function pipelineStateOf(query: string): PipelineState {
  const params = new URLSearchParams(query);
  const asOf = params.get('asOf');
  return { asOf: isLocalTime(asOf) ? asOf : '', groupBy: params.has('by') ? known(PIPELINE_GROUP_CHOICES, params.get('by')) : 'stage' };
}

/** The waterfall's part of the address (`from=2026-04-01&to=2026-06-30&by=owner`). */
export function waterfallAddress(state: WaterfallState): string {
  const params = new URLSearchParams({ from: state.from, to: state.to });
  if (state.groupBy) params.set('by', state.groupBy);
  return params.toString();
}

/** The state the address names; a missing or unreadable period is this quarter. */
export function waterfallStateOf(query: string, zone: string, now: DateTime): WaterfallState {
  const params = new URLSearchParams(query);
  const from = params.get('from');
  const to = params.get('to');
  const period = isDay(from) && isDay(to) && from <= to ? { from, to } : thisQuarter(zone, now);
  return { ...period, groupBy: known(WATERFALL_GROUP_CHOICES, params.get('by')) };
}

/** One bar of a waterfall chart: an invisible base and a visible step above it (a term's bar hangs from the running total). */
export interface WaterfallBar {
  label: string;
  base: number;
  value: number;
  kind: 'total' | 'inflow' | 'outflow';
}

/** The waterfall's bars from start through the terms to end, for amounts of one currency. */
export function waterfallBars(start: number, terms: Readonly<Record<WaterfallTerm, number>>, end: number): WaterfallBar[] {
  const bars: WaterfallBar[] = [{ label: 'start', base: 0, value: start, kind: 'total' }];
  let running = start;
  for (const [term, label, inflow] of WATERFALL_TERM_LABELS) {
    const amount = terms[term];
    const next = inflow ? running + amount : running - amount;
    bars.push({ label, base: Math.min(running, next), value: amount, kind: inflow ? 'inflow' : 'outflow' });
    running = next;
  }
  bars.push({ label: 'end', base: 0, value: end, kind: 'total' });
  return bars;
}
