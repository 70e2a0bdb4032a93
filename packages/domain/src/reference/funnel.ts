import type { FunnelTouchpoint } from './touchpoint.js';
import { ENVELOPE_KEYS, PROPERTY_KEY_PREFIX } from './touchpoint.js';

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
 *   the log recorded them.
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
 *   the total.
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

/** An actor with a matching event strictly between its events of steps afterStep and beforeStep does not get past afterStep along that chain. */
export interface FunnelExclusion extends FunnelMatcher {
  afterStep: number;
  beforeStep: number;
}

/** A funnel in normalised form (the API's zod schema produces it). */
export interface FunnelSpec {
  steps: readonly FunnelMatcher[];
  order: FunnelOrder;
  windowMs: number;
  /** The anchor's date range, [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  exclusions: readonly FunnelExclusion[];
  /** Key to break down by (see FunnelCondition.key). */
  breakdown?: string | undefined;
}

/**
 * Structural limits: step matches are kept in 32-bit masks and exclusion flags
 * in 8 bits, here and in the SQL.
 */
export const MAX_FUNNEL_STEPS = 32;
export const MAX_FUNNEL_EXCLUSIONS = 8;

export interface FunnelActorOutcome {
  actorId: string;
  /** Number of steps reached (1 = only step 0). Actors reaching none are not listed. */
  reached: number;
  breakdown: string;
  /** Occurrence time of the best chain's anchor. */
  enteredAtMs: number;
}

export interface FunnelStepCount {
  index: number;
  leads: number;
  /** leads / leads of the previous step; 1 for step 0; null when the previous step has none. */
  conversionFromPrevious: number | null;
  /** leads / leads of step 0; null when step 0 has none. */
  conversionFromFirst: number | null;
  /** Leads of the previous step who did not reach this one (0 for step 0). */
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
  if (spec.exclusions.length > MAX_FUNNEL_EXCLUSIONS) throw new Error(`at most ${MAX_FUNNEL_EXCLUSIONS} exclusions`);
  if (spec.order === 'unordered' && spec.exclusions.length > 0) throw new Error('exclusions need an ordered or strict funnel');
  if (!Number.isSafeInteger(spec.windowMs) || spec.windowMs < 0) throw new Error('windowMs must be a non-negative integer');
  for (const e of spec.exclusions) {
    if (!(Number.isInteger(e.afterStep) && Number.isInteger(e.beforeStep) && e.afterStep >= 0 && e.afterStep < e.beforeStep && e.beforeStep < n)) {
      throw new Error(`exclusion steps must satisfy 0 <= afterStep < beforeStep < ${n}`);
    }
  }
  for (const m of [...spec.steps, ...spec.exclusions]) for (const c of m.where) assertKnownKey(c.key);
  if (spec.breakdown !== undefined) assertKnownKey(spec.breakdown);
}

function assertKnownKey(key: string): void {
  if ((ENVELOPE_KEYS as readonly string[]).includes(key)) return;
  if (key.startsWith(PROPERTY_KEY_PREFIX) && key.length > PROPERTY_KEY_PREFIX.length) return;
  throw new Error(`unknown key "${key}": use ${ENVELOPE_KEYS.join(', ')} or properties.<path>`);
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
  tp: FunnelTouchpoint;
  /** bit k: matches step k (unsigned 32-bit) */
  steps: number;
  /** bit m: matches exclusion m */
  exclusions: number;
}

const bit = (mask: number, k: number) => ((mask >>> k) & 1) === 1;

/** Per-actor outcome of a funnel, sorted by actor id. */
export function funnelOutcomes(touchpoints: readonly FunnelTouchpoint[], spec: FunnelSpec): FunnelActorOutcome[] {
  assertValidFunnelSpec(spec);
  const byActor = new Map<string, ScannedEvent[]>();
  for (const tp of touchpoints) {
    const steps = spec.steps.reduce((mask, m, k) => (matchesFunnelMatcher(tp, m) ? (mask | (1 << k)) >>> 0 : mask), 0);
    const exclusions = spec.exclusions.reduce((mask, m, k) => (matchesFunnelMatcher(tp, m) ? mask | (1 << k) : mask), 0);
    let list = byActor.get(tp.actorId);
    if (!list) byActor.set(tp.actorId, (list = []));
    list.push({ tp, steps, exclusions });
  }
  const masks = exclusionMasks(spec);
  const outcomes: FunnelActorOutcome[] = [];
  for (const [actorId, events] of byActor) {
    events.sort((a, b) => a.tp.occurredAtMs - b.tp.occurredAtMs || a.tp.position - b.tp.position);
    let best: FunnelActorOutcome | undefined;
    events.forEach((anchor, a) => {
      const t = anchor.tp.occurredAtMs;
      if (t < spec.fromMs || t >= spec.toMs) return;
      if (spec.order === 'unordered' ? anchor.steps === 0 : !bit(anchor.steps, 0)) return;
      const reached = spec.order === 'unordered' ? unorderedReach(events, a, spec) : orderedReach(events, a, spec, masks);
      if (reached > (best?.reached ?? 0)) {
        best = { actorId, reached, breakdown: spec.breakdown === undefined ? '' : valueOfKey(anchor.tp, spec.breakdown), enteredAtMs: t };
      }
    });
    if (best) outcomes.push(best);
  }
  return outcomes.sort((x, y) => (x.actorId < y.actorId ? -1 : x.actorId > y.actorId ? 1 : 0));
}

/** Events after the anchor that lie within its window. */
function* windowAfter(events: readonly ScannedEvent[], a: number, windowMs: number): Generator<ScannedEvent> {
  const end = events[a]!.tp.occurredAtMs + windowMs;
  for (let i = a + 1; i < events.length && events[i]!.tp.occurredAtMs <= end; i++) yield events[i]!;
}

/**
 * Ordered and strict, for one anchor (step 0). A state is (steps matched,
 * flags of exclusions an event has violated since their afterStep); scanning
 * the window keeps every non-dominated state (same level, fewer flags), so the
 * answer is exact over all chains from this anchor, not just the greedy one.
 */
function orderedReach(events: readonly ScannedEvent[], a: number, spec: FunnelSpec, masks: { active: number[]; closing: number[] }): number {
  const n = spec.steps.length;
  let states: Array<{ level: number; flags: number }> = [{ level: 1, flags: 0 }];
  let best = 1;
  for (const e of windowAfter(events, a, spec.windowMs)) {
    if (best === n || states.length === 0) break;
    const next: Array<{ level: number; flags: number }> = [];
    for (const s of states) {
      // the event is not part of the chain: under `strict` that ends it
      if (spec.order === 'ordered') next.push({ level: s.level, flags: s.flags | (e.exclusions & masks.active[s.level]!) });
      // the event is the chain's next step (an exclusion ending here must be clean)
      if (s.level < n && bit(e.steps, s.level) && (s.flags & masks.closing[s.level]!) === 0) {
        next.push({ level: s.level + 1, flags: (s.flags | e.exclusions) & masks.active[s.level]! & masks.active[s.level + 1]! });
        best = Math.max(best, s.level + 1);
      }
    }
    // same level with a subset of the flags is at least as good
    states = antichain(next, (x, y) => x.level === y.level && (x.flags & y.flags) === y.flags, (x, y) => x.level === y.level && x.flags === y.flags);
  }
  return best;
}

/**
 * Unordered, for one anchor: the anchor takes some step b, later events in the
 * window take distinct other steps. A state is (b, mask of steps taken); only
 * maximal masks are kept. The anchor belongs to the chain only if b is inside
 * the reached prefix, so a state counts only when its prefix covers b.
 */
function unorderedReach(events: readonly ScannedEvent[], a: number, spec: FunnelSpec): number {
  const n = spec.steps.length;
  const anchorSteps = events[a]!.steps;
  let states: Array<{ b: number; mask: number }> = [];
  for (let b = 0; b < n; b++) if (bit(anchorSteps, b)) states.push({ b, mask: (1 << b) >>> 0 });
  for (const e of windowAfter(events, a, spec.windowMs)) {
    if (e.steps === 0) continue;
    const next = [...states];
    for (const s of states) {
      for (let c = 0; c < n; c++) if (bit(e.steps, c) && !bit(s.mask, c)) next.push({ b: s.b, mask: (s.mask | (1 << c)) >>> 0 });
    }
    // same anchor step with a superset of the steps taken is at least as good
    states = antichain(next, (x, y) => x.b === y.b && ((x.mask & y.mask) >>> 0) === x.mask, (x, y) => x.b === y.b && x.mask === y.mask);
  }
  let best = 0;
  for (const s of states) {
    const prefix = trailingOnes(s.mask);
    if (prefix > s.b) best = Math.max(best, prefix);
  }
  return best;
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

/** Per-step counts and rates from "leads reaching each step" (shared with the SQL path). */
export function funnelStepCounts(reached: readonly number[]): FunnelStepCount[] {
  const first = reached[0] ?? 0;
  return reached.map((leads, index) => {
    const previous = index === 0 ? leads : reached[index - 1]!;
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
  const reachedPerStep = (list: readonly FunnelActorOutcome[]) => Array.from({ length: n }, (_, k) => list.filter((o) => o.reached > k).length);
  const groups = new Map<string, FunnelActorOutcome[]>();
  if (spec.breakdown !== undefined) {
    for (const o of outcomes) {
      const g = groups.get(o.breakdown);
      if (g) g.push(o);
      else groups.set(o.breakdown, [o]);
    }
  }
  const breakdown = [...groups]
    .map(([value, list]) => ({ value, steps: funnelStepCounts(reachedPerStep(list)) }))
    .sort((x, y) => y.steps[0]!.leads - x.steps[0]!.leads || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));
  return { steps: funnelStepCounts(reachedPerStep(outcomes)), breakdown };
}
