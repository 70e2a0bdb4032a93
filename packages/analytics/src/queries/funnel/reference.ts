import type { FunnelTouchpoint } from '@sluice/domain';
import { ENVELOPE_KEYS, PROPERTY_KEY_PREFIX } from '@sluice/domain';
import type { HistogramBucket, TimeToConvertRow } from '../time-to-convert/reference.js';
import { AUTO_HISTOGRAM_EDGES_MS, durationDistribution, histogramBuckets } from '../time-to-convert/reference.js';

/**
 * Reference implementation of event funnels: plain TypeScript over an array of
 * touchpoints. `@sluice/analytics` computes the same thing in ClickHouse SQL and
 * property tests hold the two to the same answers, so this file is where the
 * semantics are written down.
 *
 * Semantics
 * - Who is counted: actors (a lead, with the anonymous history it owns; or an
 *   anonymous visitor nobody has claimed). Counts are of actors, never events.
 * - Order of an actor's events: by occurredAt (millisecond), ties broken by
 *   global log position. This total order is what "before", "between" and
 *   "next" mean below; two events at the same millisecond are ordered the way
 *   the log recorded them (see `ties` and `tieGraceMs` for the other choices).
 * - A chain is a set of distinct events of one actor, one per step 0..k-1, each
 *   matching its step (type plus every condition). Its anchor is its earliest
 *   event. A chain is valid when
 *     - the anchor lies in the date range [from, to) (from inclusive, to exclusive);
 *     - every event of it lies within the window of the anchor: at most
 *       `windowMs` after it, INCLUSIVE (an event exactly windowMs later counts);
 *     - `ordered`: the events of steps 0..k-1 follow each other in the order
 *       (other events may come between);
 *       `strict`: as ordered, and each step's event is the actor's very next
 *       event after the previous step's (any other event of the actor breaks it);
 *       `unordered`: any order (the anchor may be any step's event);
 *     - exclusions (ordered and strict only): for an exclusion between steps
 *       i < j with j < k, no event matching it lies strictly between the events
 *       of step i and step j (the chain's own intermediate events included).
 * - An actor reaches step k (0-based) when it has a valid chain over steps
 *   0..k. So an exclusion between i and j stops an actor at step i unless
 *   another chain avoids it; unordered "reaches step k" means steps 0..k were
 *   all done, in any order.
 * - Breakdown: each actor is counted once, under the breakdown value of the
 *   anchor of its best chain: the one reaching furthest, the earliest anchor
 *   among equals. A missing value reads as ''. So breakdown groups add up to
 *   the total. With several keys a group is a combination of their values
 *   on the same event.
 *
 * Options (FunnelOptions; each default is the rule above, so a spec without
 * them counts as it always did):
 * - windowAnchor `first_step` (default): every event of a chain at most
 *   windowMs after its anchor. `per_step` (ordered and strict): each step's
 *   event at most windowMs after the previous step's event.
 * - dateScope `first_step` (default): only the anchor must lie in [from, to);
 *   later steps may follow up to the window after it. `all_steps`: events at
 *   or after `to` are not looked at (steps and exclusions alike).
 * - exclusionEffect `drop_out` (default): as above, the actor stops at the
 *   exclusion's afterStep and earlier steps count. `remove`: an attempt
 *   (anchor) counts at its furthest step only through a chain no exclusion
 *   event touched (none inside an open span: after the chain's step-i event,
 *   before its step-j event or, when step j is never reached, up to the end
 *   of the window; strict chains keep collecting after they end); when every
 *   chain reaching that step is touched, the attempt counts at no step. The
 *   actor counts with its best remaining attempt, or not at all.
 * - ties `log_order` (default): events at the same instant follow the log
 *   (see "Order" above). `funnel_order`: they follow the funnel, by the
 *   first step each matches (events matching no step last), then the log,
 *   so a form and a visit logged in the same millisecond, form first, still
 *   make a visit -> form chain.
 * - tieGraceMs (default 0): with G > 0, time is read at G resolution: every
 *   event's time is floored to its G slot (counted from the Unix epoch, so a
 *   minute's grace follows the clock's minutes), and everything above reads
 *   the floored time: the order (events of one slot are at the same instant,
 *   ordered by `ties`), the date range, the windows and the times reported.
 *   Two events either side of a slot's edge keep their order however close;
 *   that is the price of an order that stays a total order, which a "within
 *   G of each other" rule is not.
 * - entry `best` (default): of the actor's attempts, the one reaching
 *   furthest (the earliest among equals) is counted. `first`: the first
 *   attempt counts even when a later one would reach further.
 * - reentry `true` (default): every step-0 event in the range may start an
 *   attempt. `false`: an attempt starts only after the previous attempt's
 *   horizon (its anchor plus the window; per_step: plus (steps - 1) windows).
 * - unit `leads` (default): one count per actor. `accounts`: one per account
 *   (the last non-empty accountId on the actor's events, over the whole
 *   log); an account reaches what its furthest actor reaches and is broken
 *   down as that actor (the earliest entered, then the smallest actor id,
 *   among equals); an actor without an account counts as itself. This is
 *   best-lead mode: one contact must make the whole chain.
 *   `accounts_pooled`: one per account, its people's events pooled into one
 *   history (a buying group: a step done by any contact counts for the
 *   account), and everything above (order, windows, strict's "very next
 *   event", attempts) reads that history as one actor's. An event belongs
 *   to the account it names (`accountId`, as PostHog's group aggregation
 *   reads the event's own `$groups`), else to its actor's account as
 *   `accounts` reads it (visits and forms rarely name one), else the actor
 *   counts alone. So contact A filling the form and contact B of the same
 *   account paying make a form -> payment chain for the account in pooled
 *   mode, and none in best-lead mode (neither contact did both).
 *   `totals`: every attempt counts (unit id `<actor>~<anchor position>`).
 * - attribution `first_touch` (default): the anchor's value. `last_touch`:
 *   the value on the event at which the attempt reached its furthest step
 *   (the earliest such event over all its chains). `step:N`: the value on
 *   the step-N event (the earliest over the chains reaching furthest); ''
 *   for an attempt that does not reach step N. last_touch and step:N need
 *   an ordered or strict funnel. `all_values`: the unit counts under every
 *   value its attempts start with (the step-0 event's), in each as far as
 *   the furthest attempt with that value reaches (`values`); breakdown
 *   groups then overlap and may add up to more than the totals, which count
 *   the unit once (its `breakdown` is its counted attempt's first touch).
 * - holdConstant (keys, default none): a chain's events all carry the
 *   anchor's values of these keys (the same deal, the same campaign).
 *
 * Optional steps (ordered and strict; never step 0): a chain may skip a step
 * marked optional, so it takes step 0, every required step up to its last
 * step, and any of the optional ones between, in order (strict: each taken
 * step's event is the actor's very next event after the previous taken
 * step's; per_step: each within the window of the previous taken step's).
 * How far an attempt reaches is its furthest step over all its chains, as
 * before; it counts at an optional step below that when one of its chains
 * took the step (under `remove`: one of its untouched chains reaching the
 * furthest step), and `skipped` lists the optional steps it counts nowhere.
 * Exclusions run between required steps and step:N names a required step,
 * so "between" and "the step-N event" keep one meaning. A step's
 * "previous" for conversion and drop-off is the previous required step.
 */

export type FunnelOrder = 'ordered' | 'strict' | 'unordered';

/** Matches a touchpoint whose key's value is one of `values` (one value = equality). */
export interface FunnelCondition {
  /** An envelope key (`source`, `channel`, `campaign`, `accountId`) or `properties.<path>`. */
  key: string;
  values: readonly string[];
}

export interface FunnelMatcher {
  type: string;
  where: readonly FunnelCondition[];
}

/** A step: a matcher, which a chain may skip when optional (see "Optional steps" above). */
export interface FunnelStep extends FunnelMatcher {
  optional?: boolean | undefined;
}

/** An actor with a matching event strictly between its events of steps afterStep and beforeStep does not get past afterStep along that chain. */
export interface FunnelExclusion extends FunnelMatcher {
  afterStep: number;
  beforeStep: number;
}

/** A funnel in normalised form (the API's zod schema produces it). */
export interface FunnelSpec {
  steps: readonly FunnelStep[];
  order: FunnelOrder;
  windowMs: number;
  /** The anchor's date range, [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  exclusions: readonly FunnelExclusion[];
  /**
   * Key to break down by (see FunnelCondition.key), or several at once: a
   * group is then a combination of values, written as its JSON array text
   * (see {@link breakdownText}).
   */
  breakdown?: string | readonly string[] | undefined;
  /**
   * Keys every step of a chain must share (e.g. `properties.dealId`): an
   * event takes a step only when its values of these keys equal the
   * anchor's (a missing value reads as ''). Exclusions are not held.
   */
  holdConstant?: readonly string[] | undefined;
  /** Also note when each unit's counted attempt first reached each step (see funnelTimeToConvert). */
  timeToConvert?: boolean | undefined;
  /** Counting choices; each missing one takes its default (see the top of this file and FUNNEL_OPTION_DEFAULTS). */
  options?: Partial<FunnelOptions> | undefined;
}

export type FunnelAttribution = 'first_touch' | 'last_touch' | 'all_values' | `step:${number}`;

export interface FunnelOptions {
  windowAnchor: 'first_step' | 'per_step';
  ties: 'log_order' | 'funnel_order';
  /** Slot width in ms events' times are floored to (0: the millisecond itself). */
  tieGraceMs: number;
  dateScope: 'first_step' | 'all_steps';
  exclusionEffect: 'drop_out' | 'remove';
  entry: 'best' | 'first';
  reentry: boolean;
  unit: 'leads' | 'accounts' | 'accounts_pooled' | 'totals';
  attribution: FunnelAttribution;
}

export const FUNNEL_OPTION_DEFAULTS: FunnelOptions = {
  windowAnchor: 'first_step',
  ties: 'log_order',
  tieGraceMs: 0,
  dateScope: 'first_step',
  exclusionEffect: 'drop_out',
  entry: 'best',
  reentry: true,
  unit: 'leads',
  attribution: 'first_touch',
};

/** Unit ids of accounts (client ids may not contain `~`, so none collides with a lead id). */
export const ACCOUNT_UNIT_PREFIX = 'account~';

/** The spec's options with the defaults filled in. */
export function funnelOptions(spec: Pick<FunnelSpec, 'options'>): FunnelOptions {
  return { ...FUNNEL_OPTION_DEFAULTS, ...spec.options };
}

/** The step whose event a `step:N` attribution reads; undefined for the other attributions. */
export function attributionStep(attribution: FunnelAttribution): number | undefined {
  return attribution.startsWith('step:') ? Number(attribution.slice('step:'.length)) : undefined;
}

/**
 * How far after an anchor its attempt may look: the window, or with
 * per_step one window per step after the first.
 */
export function funnelHorizonMs(spec: Pick<FunnelSpec, 'steps' | 'windowMs' | 'options'>): number {
  return funnelOptions(spec).windowAnchor === 'per_step' ? spec.windowMs * Math.max(1, spec.steps.length - 1) : spec.windowMs;
}

/** Digits of the anchor position in an attempt's unit id. */
export const ATTEMPT_POSITION_DIGITS = 20;

/** Unit id of one attempt under `totals`: the actor and its anchor's log position (`~` is reserved, so it cannot be part of a client id), padded so text order is (actor, position) order. */
export function attemptUnitId(actorId: string, position: number): string {
  return `${actorId}~${String(position).padStart(ATTEMPT_POSITION_DIGITS, '0')}`;
}

/**
 * Structural limits: step matches are kept in 32-bit masks and exclusion flags
 * in 8 bits, here and in the SQL. An unordered fold keeps sets of steps taken,
 * which grow as 2^steps when the steps match the same events (32 visit steps
 * over 32 visits would hold billions), so unordered funnels stop at 8.
 */
export const MAX_FUNNEL_STEPS = 32;
export const MAX_UNORDERED_FUNNEL_STEPS = 8;
export const MAX_FUNNEL_EXCLUSIONS = 8;

export interface FunnelActorOutcome {
  /** The unit counted: the actor id (unit `leads`), `account~<id>` or the actor id (`accounts`, `accounts_pooled`), or {@link attemptUnitId} (`totals`). */
  actorId: string;
  /** Number of steps reached (1 = only step 0). Actors reaching none are not listed. */
  reached: number;
  breakdown: string;
  /** Occurrence time of the best chain's anchor. */
  enteredAtMs: number;
  /** Under `all_values` attribution with a breakdown: every value the unit counts under and how far (with optional steps: which it skipped), by value. */
  values?: FunnelValueReach[];
  /** With optional steps: the optional steps below `reached` it does not count at (see "Optional steps"). */
  skipped?: number[];
  /** With `timeToConvert`: when the counted attempt first reached each step (over all its chains), one per step below `reached` (null: a skipped step). */
  reachedAtMs?: Array<number | null>;
}

/** How far a unit got under one value (all_values); `skipped` as in FunnelActorOutcome. */
export interface FunnelValueReach {
  value: string;
  reached: number;
  skipped?: number[];
}

export interface FunnelStepCount {
  index: number;
  leads: number;
  /** leads / leads of the previous step (the previous required step, with optional steps); 1 for step 0; null when the previous step has none. */
  conversionFromPrevious: number | null;
  /** leads / leads of step 0; null when step 0 has none. */
  conversionFromFirst: number | null;
  /** Leads of the previous (required) step who did not reach this one (0 for step 0). */
  droppedFromPrevious: number;
}

export interface FunnelCounts {
  steps: FunnelStepCount[];
  /** Empty without a breakdown; else one group per value, by leads at step 0 (desc), then value. */
  breakdown: Array<{ value: string; steps: FunnelStepCount[] }>;
}

/** Throws on a spec the counting cannot honour (the API's schema reports these to users first). */
export function assertValidFunnelSpec(spec: FunnelSpec): void {
  const n = spec.steps.length;
  if (n < 1 || n > MAX_FUNNEL_STEPS) throw new Error(`a funnel has 1 to ${MAX_FUNNEL_STEPS} steps, got ${n}`);
  if (spec.order === 'unordered' && n > MAX_UNORDERED_FUNNEL_STEPS) throw new Error(`an unordered funnel has at most ${MAX_UNORDERED_FUNNEL_STEPS} steps, got ${n}`);
  if (spec.exclusions.length > MAX_FUNNEL_EXCLUSIONS) throw new Error(`at most ${MAX_FUNNEL_EXCLUSIONS} exclusions`);
  if (spec.order === 'unordered' && spec.exclusions.length > 0) throw new Error('exclusions need an ordered or strict funnel');
  if (!Number.isSafeInteger(spec.windowMs) || spec.windowMs < 0) throw new Error('windowMs must be a non-negative integer');
  const grace = funnelOptions(spec).tieGraceMs;
  if (!Number.isSafeInteger(grace) || grace < 0) throw new Error('tieGraceMs must be a non-negative integer');
  for (const e of spec.exclusions) {
    if (!(Number.isInteger(e.afterStep) && Number.isInteger(e.beforeStep) && e.afterStep >= 0 && e.afterStep < e.beforeStep && e.beforeStep < n)) {
      throw new Error(`exclusion steps must satisfy 0 <= afterStep < beforeStep < ${n}`);
    }
  }
  for (const m of [...spec.steps, ...spec.exclusions]) for (const c of m.where) assertKnownKey(c.key);
  for (const key of breakdownKeys(spec) ?? []) assertKnownKey(key);
  for (const key of spec.holdConstant ?? []) assertKnownKey(key);
  const o = funnelOptions(spec);
  if (spec.order === 'unordered' && o.windowAnchor === 'per_step') throw new Error('a per_step window needs an ordered or strict funnel');
  const nth = attributionStep(o.attribution);
  if ((o.attribution === 'last_touch' || nth !== undefined) && spec.order === 'unordered') throw new Error(`${o.attribution} attribution needs an ordered or strict funnel`);
  if (nth !== undefined && !(Number.isInteger(nth) && nth >= 0 && nth < n)) throw new Error(`step:N attribution needs 0 <= N < ${n}`);
  if (optionalMask(spec) === 0) return;
  if (spec.steps[0]!.optional) throw new Error('step 0 cannot be optional: it starts every attempt');
  if (spec.order === 'unordered') throw new Error('optional steps need an ordered or strict funnel');
  if (nth !== undefined && spec.steps[nth]!.optional) throw new Error('step:N attribution needs a required step');
  for (const e of spec.exclusions) if (spec.steps[e.afterStep]!.optional || spec.steps[e.beforeStep]!.optional) throw new Error('an exclusion runs between required steps');
}

/** Bit k set when step k is optional (0 for a funnel without optional steps). */
export function optionalMask(spec: Pick<FunnelSpec, 'steps'>): number {
  return spec.steps.reduce((mask, step, k) => (step.optional ? (mask | (1 << k)) >>> 0 : mask), 0);
}

/** The required step a step's conversion and drop-off are measured from: the nearest earlier required step (step 0 is always required). */
export function previousRequiredStep(spec: Pick<FunnelSpec, 'steps'>, k: number): number {
  let j = k - 1;
  while (j > 0 && spec.steps[j]!.optional) j--;
  return j;
}

/**
 * Per level (the next step a chain takes), the steps an event may take
 * there: the level's step and, while that one is optional, the next ones up
 * to the first required step. Without optional steps, just the level's step.
 */
export function takeableSteps(spec: Pick<FunnelSpec, 'steps'>): number[] {
  const n = spec.steps.length;
  return Array.from({ length: n + 1 }, (_, level) => {
    let mask = 0;
    for (let c = level; c < n; c++) {
      mask = (mask | (1 << c)) >>> 0;
      if (!spec.steps[c]!.optional) break;
    }
    return mask;
  });
}

/** The optional steps below `reached` that `taken` (a mask of steps) does not include, in order. */
export function skippedSteps(spec: Pick<FunnelSpec, 'steps'>, reached: number, taken: number): number[] {
  return spec.steps.flatMap((step, k) => (k < reached && step.optional && !bit(taken, k) ? [k] : []));
}

function assertKnownKey(key: string): void {
  if ((ENVELOPE_KEYS as readonly string[]).includes(key)) return;
  if (key.startsWith(PROPERTY_KEY_PREFIX) && key.length > PROPERTY_KEY_PREFIX.length) return;
  throw new Error(`unknown key "${key}": use ${ENVELOPE_KEYS.join(', ')} or properties.<path>`);
}

/** The breakdown keys of a spec (one or several), or undefined without a breakdown. */
export function breakdownKeys(spec: Pick<FunnelSpec, 'breakdown'>): readonly string[] | undefined {
  return spec.breakdown === undefined ? undefined : typeof spec.breakdown === 'string' ? [spec.breakdown] : spec.breakdown;
}

/** A group's value: the value itself for one key, the JSON array of the values for several. */
export function breakdownText(spec: Pick<FunnelSpec, 'breakdown'>, values: readonly string[]): string {
  return typeof spec.breakdown === 'string' ? values[0]! : JSON.stringify(values);
}

/** Group order after the counts: by value, element by element for several keys. */
function compareBreakdownTexts(spec: Pick<FunnelSpec, 'breakdown'>, x: string, y: string): number {
  const a = typeof spec.breakdown === 'string' ? [x] : (JSON.parse(x) as string[]);
  const b = typeof spec.breakdown === 'string' ? [y] : (JSON.parse(y) as string[]);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length;
}

/** The value a key reads on a touchpoint ('' when missing). */
export function valueOfKey(tp: FunnelTouchpoint, key: string): string {
  if (key.startsWith(PROPERTY_KEY_PREFIX)) return tp.properties[key.slice(PROPERTY_KEY_PREFIX.length)] ?? '';
  return tp.fields[key as keyof FunnelTouchpoint['fields']] ?? '';
}

export function matchesFunnelMatcher(tp: FunnelTouchpoint, m: FunnelMatcher): boolean {
  return tp.type === m.type && m.where.every((c) => c.values.includes(valueOfKey(tp, c.key)));
}

/**
 * Bit masks over exclusions, per level (= steps matched so far). `active[j]`:
 * exclusions whose span is open once j steps are matched (afterStep < j <=
 * beforeStep). `closing[k]`: exclusions that end at step k. The SQL binds the
 * same arrays as parameters.
 */
export function exclusionMasks(spec: Pick<FunnelSpec, 'steps' | 'exclusions'>): { active: number[]; closing: number[] } {
  const n = spec.steps.length;
  const active = Array.from({ length: n + 1 }, (_, j) => spec.exclusions.reduce((mask, e, m) => (e.afterStep < j && j <= e.beforeStep ? mask | (1 << m) : mask), 0));
  const closing = Array.from({ length: n }, (_, k) => spec.exclusions.reduce((mask, e, m) => (e.beforeStep === k ? mask | (1 << m) : mask), 0));
  return { active, closing };
}

interface ScannedEvent {
  /** the touchpoint, its time floored to the tie grace's slot */
  tp: FunnelTouchpoint;
  /** its place among events at the same instant: the first step it matches under funnel_order (32: none), else 0 */
  rank: number;
  /** its values of the holdConstant keys, as one text */
  held: string;
  /** bit k: matches step k (unsigned 32-bit) */
  steps: number;
  /** bit m: matches exclusion m */
  exclusions: number;
}

const bit = (mask: number, k: number) => ((mask >>> k) & 1) === 1;

/** One attempt of an actor: its anchor, the steps it reaches and the event its breakdown value is read from (-1: none, the value is ''). */
interface Attempt {
  anchor: number;
  reached: number;
  attr: number;
  /** The steps it counts at below `reached` (all of them without optional steps). */
  taken: number;
  /** When the attempt first took each step (one per step below reached; null: never). */
  reachedAtMs: Array<number | null>;
}

/** Per-unit outcome of a funnel (a unit is an actor, an account or an attempt: see `unit`), sorted by unit id. */
export function funnelOutcomes(touchpoints: readonly FunnelTouchpoint[], spec: FunnelSpec): FunnelActorOutcome[] {
  assertValidFunnelSpec(spec);
  const o = funnelOptions(spec);
  const accounts = actorAccounts(touchpoints);
  const historyOf = o.unit === 'accounts_pooled' ? pooledHistoryOf(touchpoints, accounts) : (tp: FunnelTouchpoint) => tp.actorId;
  const byActor = new Map<string, ScannedEvent[]>();
  for (const tp of touchpoints) {
    const steps = spec.steps.reduce((mask, m, k) => (matchesFunnelMatcher(tp, m) ? (mask | (1 << k)) >>> 0 : mask), 0);
    const exclusions = spec.exclusions.reduce((mask, m, k) => (matchesFunnelMatcher(tp, m) ? mask | (1 << k) : mask), 0);
    const history = historyOf(tp);
    let list = byActor.get(history);
    if (!list) byActor.set(history, (list = []));
    const rank = o.ties === 'funnel_order' ? trailingZeros(steps) : 0;
    const at = o.tieGraceMs > 0 ? { ...tp, occurredAtMs: tp.occurredAtMs - (((tp.occurredAtMs % o.tieGraceMs) + o.tieGraceMs) % o.tieGraceMs) } : tp;
    list.push({ tp: at, rank, held: JSON.stringify((spec.holdConstant ?? []).map((key) => valueOfKey(tp, key))), steps, exclusions });
  }
  const masks = { ...exclusionMasks(spec), takeable: takeableSteps(spec) };
  const allValues = o.attribution === 'all_values' && spec.breakdown !== undefined;
  const optional = optionalMask(spec) !== 0;
  const outcomes: FunnelActorOutcome[] = [];
  for (const [actorId, events] of byActor) {
    events.sort((a, b) => a.tp.occurredAtMs - b.tp.occurredAtMs || a.rank - b.rank || a.tp.position - b.tp.position);
    const attempts = attemptAnchors(events, spec, o).map((a): Attempt => {
      if (spec.order !== 'unordered') return { anchor: a, ...orderedReach(events, a, spec, o, masks) };
      const reach = unorderedReach(events, a, spec);
      return { anchor: a, ...reach, attr: a, taken: prefixMask(reach.reached) };
    });
    const keys = breakdownKeys(spec);
    const valueAt = (i: number) => (keys === undefined ? '' : breakdownText(spec, keys.map((key) => (i < 0 ? '' : valueOfKey(events[i]!.tp, key)))));
    const outcome = (unitId: string, at: Attempt, counted: readonly Attempt[]): FunnelActorOutcome => ({
      actorId: unitId,
      reached: at.reached,
      breakdown: valueAt(at.attr),
      enteredAtMs: events[at.anchor]!.tp.occurredAtMs,
      ...(optional ? { skipped: skippedSteps(spec, at.reached, at.taken) } : {}),
      ...(spec.timeToConvert ? { reachedAtMs: at.reachedAtMs } : {}),
      ...(allValues ? { values: mergeValues(spec, counted.filter((c) => c.reached > 0).map((c) => ({ value: valueAt(c.anchor), reached: c.reached, ...(optional ? { skipped: skippedSteps(spec, c.reached, c.taken) } : {}) }))) } : {}),
    });
    if (o.unit === 'totals') {
      for (const at of attempts) if (at.reached > 0) outcomes.push(outcome(attemptUnitId(actorId, events[at.anchor]!.tp.position), at, [at]));
      continue;
    }
    const counted = o.entry === 'first' ? attempts.slice(0, 1) : attempts;
    let best: Attempt | undefined;
    for (const at of counted) if (at.reached > (best?.reached ?? 0)) best = at;
    if (best) outcomes.push(outcome(actorId, best, counted));
  }
  const byId = (x: FunnelActorOutcome, y: FunnelActorOutcome) => (x.actorId < y.actorId ? -1 : x.actorId > y.actorId ? 1 : 0);
  if (o.unit !== 'accounts') return outcomes.sort(byId);
  // an account is its furthest actor, the earliest entered then the smallest id among equals
  const groups = new Map<string, FunnelActorOutcome>();
  for (const x of outcomes.sort(byId)) {
    const account = accounts.get(x.actorId)?.account;
    const unitId = account === undefined ? x.actorId : ACCOUNT_UNIT_PREFIX + account;
    const held = groups.get(unitId);
    const values = allValues ? { values: mergeValues(spec, [...(held?.values ?? []), ...x.values!]) } : {};
    if (!held || x.reached > held.reached || (x.reached === held.reached && x.enteredAtMs < held.enteredAtMs)) groups.set(unitId, { ...x, actorId: unitId, ...values });
    else groups.set(unitId, { ...held, ...values });
  }
  return [...groups.values()].sort(byId);
}

/**
 * The history an event is pooled into when an account's people count as one
 * (`accounts_pooled`, see above): `account~<id>` of the account the event
 * names, else of its actor's account over these touchpoints, else the actor.
 */
export function pooledHistoryOf(touchpoints: readonly FunnelTouchpoint[], accounts = actorAccounts(touchpoints)): (tp: FunnelTouchpoint) => string {
  return (tp) => {
    const account = tp.fields.accountId !== '' ? tp.fields.accountId : accounts.get(tp.actorId)?.account;
    return account === undefined ? tp.actorId : ACCOUNT_UNIT_PREFIX + account;
  };
}

/** Each actor's account: the last one its events name, in time order (the real times: it is not the funnel's to reorder). */
function actorAccounts(touchpoints: readonly FunnelTouchpoint[]): Map<string, { account: string; at: [number, number] }> {
  const accounts = new Map<string, { account: string; at: [number, number] }>();
  for (const tp of touchpoints) {
    const known = accounts.get(tp.actorId);
    if (tp.fields.accountId !== '' && (!known || tp.occurredAtMs > known.at[0] || (tp.occurredAtMs === known.at[0] && tp.position > known.at[1]))) {
      accounts.set(tp.actorId, { account: tp.fields.accountId, at: [tp.occurredAtMs, tp.position] });
    }
  }
  return accounts;
}

/**
 * One entry per value, sorted by value: the unit counts under it at every
 * step one of its entries counts at (as far as the furthest; an optional step
 * is skipped only when every entry reaching past it skipped it).
 */
function mergeValues(spec: Pick<FunnelSpec, 'steps'>, list: readonly FunnelValueReach[]): FunnelValueReach[] {
  const merged = new Map<string, { reached: number; taken: number }>();
  for (const { value, reached, skipped } of list) {
    const held = merged.get(value) ?? { reached: 0, taken: 0 };
    const taken = (skipped ?? []).reduce((mask, k) => (mask & ~(1 << k)) >>> 0, prefixMask(reached));
    merged.set(value, { reached: Math.max(reached, held.reached), taken: (held.taken | taken) >>> 0 });
  }
  return [...merged]
    .map(([value, { reached, taken }]) => ({ value, reached, ...(optionalMask(spec) === 0 ? {} : { skipped: skippedSteps(spec, reached, taken) }) }))
    .sort((x, y) => (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));
}

/** Steps 0..reached-1 as a mask. */
const prefixMask = (reached: number) => (reached >= 32 ? 0xffffffff : (1 << reached) - 1) >>> 0;

/** The anchors that start attempts: step-0 events (unordered: any step's) in the range; without re-entry, only after the previous attempt's horizon. */
function attemptAnchors(events: readonly ScannedEvent[], spec: FunnelSpec, o: FunnelOptions): number[] {
  const horizon = funnelHorizonMs(spec);
  const out: number[] = [];
  events.forEach((e, a) => {
    const t = e.tp.occurredAtMs;
    if (t < spec.fromMs || t >= spec.toMs) return;
    if (spec.order === 'unordered' ? e.steps === 0 : !bit(e.steps, 0)) return;
    if (!o.reentry && out.length > 0 && t <= events[out[out.length - 1]!]!.tp.occurredAtMs + horizon) return;
    out.push(a);
  });
  return out;
}

/**
 * Events after the anchor that lie within its horizon (and, with dateScope
 * all_steps, before the range's end); one whose held values differ from the
 * anchor's takes no step.
 */
function* windowAfter(events: readonly ScannedEvent[], a: number, spec: FunnelSpec): Generator<[ScannedEvent, number]> {
  const anchor = events[a]!;
  const horizonEnd = anchor.tp.occurredAtMs + funnelHorizonMs(spec);
  const end = funnelOptions(spec).dateScope === 'all_steps' ? Math.min(horizonEnd, spec.toMs - 1) : horizonEnd;
  for (let i = a + 1; i < events.length && events[i]!.tp.occurredAtMs <= end; i++) {
    const e = events[i]!;
    yield [e.held === anchor.held ? e : { ...e, steps: 0 }, i];
  }
}

/**
 * A partial chain: its level (the next step it may take: one past its last
 * taken step), flags of the exclusions an event has violated since their
 * afterStep, the optional steps it took, the time of its last event
 * (per_step), whether it can still advance (strict chains end at an event
 * they do not take, kept only under `remove`, where their flags still
 * matter), and the event its breakdown value would be read from.
 */
interface ChainState {
  level: number;
  flags: number;
  taken: number;
  lastMs: number;
  frozen: boolean;
  attr: number;
}

/**
 * Ordered and strict, for one anchor (step 0). Scanning the window keeps
 * every non-dominated state (same level, fewer flags, an earlier attribution
 * event; per_step: a later last event, or under `remove` the same one; under
 * `remove` with optional steps: a superset of the optional steps taken), so
 * the answer is exact over all chains from this anchor, not just the greedy
 * one: the furthest level, with the earliest attribution event among equals,
 * and the steps taken on the way.
 */
function orderedReach(
  events: readonly ScannedEvent[],
  a: number,
  spec: FunnelSpec,
  o: FunnelOptions,
  masks: { active: number[]; closing: number[]; takeable: number[] },
): { reached: number; attr: number; taken: number; reachedAtMs: Array<number | null> } {
  const n = spec.steps.length;
  const nth = attributionStep(o.attribution);
  const perStep = o.windowAnchor === 'per_step';
  const remove = o.exclusionEffect === 'remove';
  const optional = optionalMask(spec);
  const init: ChainState = { level: 1, flags: 0, taken: 1, lastMs: events[a]!.tp.occurredAtMs, frozen: false, attr: nth === undefined || nth === 0 ? a : -1 };
  let states = [init];
  let best = { reached: 1, attr: init.attr };
  // every step some chain took (drop_out counts an attempt there), and when it first did
  let takenAny = 1;
  const reachedAtMs: Array<number | null> = [init.lastMs];
  const consider = (s: ChainState) => {
    const step = s.level - 1;
    if (!bit(takenAny, step)) {
      takenAny = (takenAny | (1 << step)) >>> 0;
      while (reachedAtMs.length < step) reachedAtMs.push(null);
      reachedAtMs[step] = s.lastMs;
    }
    if (s.level > best.reached || (s.level === best.reached && s.attr < best.attr)) best = { reached: s.level, attr: s.attr };
  };
  for (const [e, i] of windowAfter(events, a, spec)) {
    // later events only give later attribution events, except for step:N (a later chain may have an earlier step-N event);
    // an optional step may still be taken by a later chain (under `remove`, one that may end untouched)
    if ((best.reached === n && nth === undefined && (optional === 0 || (!remove && takenAny === prefixMask(n)))) || states.length === 0) break;
    const next: ChainState[] = [];
    for (const s of states) {
      if (perStep && e.tp.occurredAtMs > s.lastMs + spec.windowMs) {
        if (remove) next.push(s); // past its window: nothing changes it any more
        continue;
      }
      const flagged = { ...s, flags: s.flags | (e.exclusions & masks.active[s.level]!) };
      // the event is not part of the chain: under `strict` that ends it
      if (spec.order === 'ordered' || s.frozen) next.push(flagged);
      else if (remove) next.push({ ...flagged, frozen: true });
      if (s.frozen) continue;
      // the event is the chain's next step, or a later one past optional steps (an exclusion ending there must be clean)
      for (let c = s.level; c < n; c++) {
        if (!bit(masks.takeable[s.level]!, c)) break;
        if (!bit(e.steps, c) || (s.flags & masks.closing[c]!) !== 0) continue;
        const advanced: ChainState = {
          level: c + 1,
          flags: (s.flags | e.exclusions) & masks.active[s.level]! & masks.active[c + 1]!,
          taken: (s.taken | (1 << c)) >>> 0,
          lastMs: e.tp.occurredAtMs,
          frozen: false,
          attr: o.attribution === 'last_touch' || c === nth ? i : s.attr,
        };
        next.push(advanced);
        consider(advanced);
      }
    }
    // y covers x: y is at least as good as x
    const tracksTaken = remove && optional !== 0;
    states = antichain(
      next,
      (x, y) =>
        x.level === y.level &&
        x.frozen === y.frozen &&
        (x.flags & y.flags) === y.flags &&
        y.attr <= x.attr &&
        (!tracksTaken || ((x.taken & y.taken) >>> 0) === x.taken) &&
        (!perStep || (remove ? y.lastMs === x.lastMs : y.lastMs >= x.lastMs)),
      (x, y) => x.level === y.level && x.frozen === y.frozen && x.flags === y.flags && x.attr === y.attr && (!tracksTaken || x.taken === y.taken) && (!perStep || x.lastMs === y.lastMs),
    );
  }
  if (!remove) return { ...best, taken: takenAny, reachedAtMs: reachedAtMs.slice(0, best.reached) };
  // the attempt counts at its furthest step through a chain no exclusion event has touched (at the steps such chains took), or nowhere
  const furthest = Math.max(...states.map((s) => s.level));
  let clean = { reached: 0, attr: -1, taken: 0 };
  for (const s of states) {
    if (s.flags !== 0 || s.level !== furthest) continue;
    clean = { reached: s.level, attr: clean.reached === 0 ? s.attr : Math.min(clean.attr, s.attr), taken: (clean.taken | s.taken) >>> 0 };
  }
  return { ...clean, reachedAtMs: reachedAtMs.slice(0, clean.reached).map((ms, k) => (bit(clean.taken, k) ? ms : null)) };
}

/**
 * Unordered, for one anchor: the anchor takes some step b, later events in the
 * window take distinct other steps. A state is (b, mask of steps taken); only
 * maximal masks are kept. The anchor belongs to the chain only if b is inside
 * the reached prefix, so a state counts only when its prefix covers b.
 */
function unorderedReach(events: readonly ScannedEvent[], a: number, spec: FunnelSpec): { reached: number; reachedAtMs: number[] } {
  const n = spec.steps.length;
  const anchorSteps = events[a]!.steps;
  let states: Array<{ b: number; mask: number }> = [];
  for (let b = 0; b < n; b++) if (bit(anchorSteps, b)) states.push({ b, mask: (1 << b) >>> 0 });
  // the prefix done so far only grows (a superset replaces its subsets): note when each step is first covered
  const reachedAtMs: number[] = [];
  const note = (ms: number) => {
    const best = Math.max(0, ...states.map((s) => (trailingOnes(s.mask) > s.b ? trailingOnes(s.mask) : 0)));
    while (reachedAtMs.length < best) reachedAtMs.push(ms);
  };
  note(events[a]!.tp.occurredAtMs);
  for (const [e] of windowAfter(events, a, spec)) {
    if (e.steps === 0) continue;
    const next = [...states];
    for (const s of states) {
      for (let c = 0; c < n; c++) if (bit(e.steps, c) && !bit(s.mask, c)) next.push({ b: s.b, mask: (s.mask | (1 << c)) >>> 0 });
    }
    // same anchor step with a superset of the steps taken is at least as good
    states = antichain(next, (x, y) => x.b === y.b && ((x.mask & y.mask) >>> 0) === x.mask, (x, y) => x.b === y.b && x.mask === y.mask);
    note(e.tp.occurredAtMs);
  }
  return { reached: reachedAtMs.length, reachedAtMs };
}

/** The lowest set bit's index (32 for none): the first step an event matches. */
function trailingZeros(mask: number): number {
  let k = 0;
  while (k < 32 && !bit(mask, k)) k++;
  return k;
}

function trailingOnes(mask: number): number {
  let k = 0;
  while (k < 32 && bit(mask, k)) k++;
  return k;
}

/** The distinct states that no other state dominates (`covers(x, y)`: y is at least as good as x). */
function antichain<T>(states: T[], covers: (x: T, y: T) => boolean, same: (x: T, y: T) => boolean): T[] {
  const distinct = states.filter((s, i) => states.findIndex((t) => same(s, t)) === i);
  return distinct.filter((s) => !distinct.some((t) => !same(s, t) && covers(s, t)));
}

/**
 * Per-step counts and rates from "leads reaching each step" (shared with the
 * SQL path); with optional steps, each step's "previous" is the previous
 * required one.
 */
export function funnelStepCounts(reached: readonly number[], spec?: Pick<FunnelSpec, 'steps'>): FunnelStepCount[] {
  const first = reached[0] ?? 0;
  return reached.map((leads, index) => {
    const previous = index === 0 ? leads : reached[spec === undefined ? index - 1 : previousRequiredStep(spec, index)]!;
    return {
      index,
      leads,
      conversionFromPrevious: index === 0 ? 1 : previous === 0 ? null : leads / previous,
      conversionFromFirst: first === 0 ? null : leads / first,
      droppedFromPrevious: previous - leads,
    };
  });
}

/** Counts of a funnel over touchpoints: totals and, with a breakdown, one group per value. */
export function countFunnel(touchpoints: readonly FunnelTouchpoint[], spec: FunnelSpec): FunnelCounts {
  const outcomes = funnelOutcomes(touchpoints, spec);
  const n = spec.steps.length;
  type Reach = { reached: number; skipped?: readonly number[] | undefined };
  const reachedPerStep = (list: readonly Reach[]) => Array.from({ length: n }, (_, k) => list.filter((o) => o.reached > k && !o.skipped?.includes(k)).length);
  const groups = new Map<string, Reach[]>();
  if (spec.breakdown !== undefined) {
    // under all_values a unit is in the group of every value it counts under, as far as it got there
    for (const o of outcomes) {
      for (const { value, ...reach } of o.values ?? [{ value: o.breakdown, reached: o.reached, skipped: o.skipped }]) {
        const g = groups.get(value);
        if (g) g.push(reach);
        else groups.set(value, [reach]);
      }
    }
  }
  const breakdown = [...groups]
    .map(([value, list]) => ({ value, steps: funnelStepCounts(reachedPerStep(list), spec) }))
    .sort((x, y) => y.steps[0]!.leads - x.steps[0]!.leads || compareBreakdownTexts(spec, x.value, y.value));
  return { steps: funnelStepCounts(reachedPerStep(outcomes), spec), breakdown };
}

export interface FunnelTimeToConvert {
  buckets: HistogramBucket[];
  /** Each step from the previous (required) step, then (with 3 steps or more) step 0 to the last unless already there. */
  pairs: Array<{ fromStep: number; toStep: number; total: TimeToConvertRow; groups: TimeToConvertRow[] }>;
}

/**
 * Time to convert between the steps of a funnel, from outcomes counted with
 * `timeToConvert`: for a pair (i, j), the units that reached step i, and of
 * them those that reached step j, with the time from first reaching i to
 * first reaching j: count, mean, median, p90 and a histogram over the fixed
 * ladder (AUTO_HISTOGRAM_EDGES_MS), in total and per breakdown value (the
 * counted attempt's; under all_values its first touch). Shared by the
 * reference and the ClickHouse path, which only supplies the outcomes.
 */
export function funnelTimeToConvert(outcomes: readonly FunnelActorOutcome[], spec: Pick<FunnelSpec, 'steps' | 'breakdown'>): FunnelTimeToConvert {
  const n = spec.steps.length;
  // from a required step, so every unit counted at it has a time there, and the next step is first reached after it
  const pairs = Array.from({ length: n - 1 }, (_, k) => [previousRequiredStep(spec, k + 1), k + 1] as const);
  if (n > 2 && previousRequiredStep(spec, n - 1) !== 0) pairs.push([0, n - 1]);
  const edges = AUTO_HISTOGRAM_EDGES_MS;
  return {
    buckets: histogramBuckets(edges),
    pairs: pairs.map(([fromStep, toStep]) => {
      const entries = (segment: (o: FunnelActorOutcome) => string) =>
        outcomes.filter((o) => o.reached > fromStep).map((o) => ({ segment: segment(o), fromMs: o.reachedAtMs![fromStep]!, toMs: o.reachedAtMs![toStep] ?? undefined }));
      const total = durationDistribution(entries(() => ''), edges).rows[0] ?? { segment: '', entered: 0, converted: 0, meanMs: null, medianMs: null, p90Ms: null, histogram: edges.map(() => 0).concat(0) };
      return { fromStep, toStep, total, groups: spec.breakdown === undefined ? [] : durationDistribution(entries((o) => o.breakdown), edges).rows };
    }),
  };
}
