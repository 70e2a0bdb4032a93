import type { FunnelMatcher, FunnelSpec } from './queries/funnel/reference.js';
import { PROPERTY_KEY_PREFIX } from '@sluice/domain';
import { ACCOUNT_UNIT_PREFIX, ATTEMPT_POSITION_DIGITS, assertValidFunnelSpec, attributionStep, breakdownKeys, exclusionMasks, funnelHorizonMs, funnelOptions, optionalMask, takeableSteps } from './queries/funnel/reference.js';
import type { QueryParams } from './client.js';

/**
 * SQL for the funnel semantics documented in the reference,
 * queries/funnel/reference.ts, computed the same way: per actor, events sorted by
 * (occurred_at, position); per anchor, a fold over the events inside its window
 * that keeps every non-dominated partial chain, so the result is exact over all
 * chains rather than the greedy first match.
 *
 * Why not windowFunnel: it orders equal timestamps by condition rather than by
 * log position, has no exclusions, and returns only a level, while breakdown
 * attribution needs the anchor of the best chain.
 *
 * Every value is a bound parameter; the only text spliced in is fixed SQL,
 * whitelisted column names and integers computed here.
 */

/** Envelope keys and their columns in touchpoints_resolved. */
const ENVELOPE_COLUMNS: Record<string, string> = { source: 'source', channel: 'channel', campaign: 'campaign', accountId: 'account_id' };

/**
 * A state of a chain packs (level or anchor step) << 32 | flags or step mask,
 * in a UInt64. Ordered and strict states also carry, when an option needs
 * them, bit 8: the chain has ended (strict, under `remove`) and bits 9-31:
 * the 1-based index of its attribution event (0: none). With a per_step
 * window a state is a tuple (packed, time of its last event).
 */
const LOW = '4294967295';
const hi = (s: string) => `bitShiftRight(${s}, 32)`;
const lo = (s: string) => `bitAnd(${s}, ${LOW})`;
const ATTR_MAX = 8388607;

/** Collects bound parameters; returns the `{name:Type}` placeholder to splice. */
export class Params {
  readonly values: QueryParams = {};
  bind(name: string, type: string, value: unknown): string {
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}

/** A key's expression over touchpoints_resolved: an envelope column or a flattened property. */
export function keyExpr(key: string, name: string, p: Params): string {
  if (key.startsWith(PROPERTY_KEY_PREFIX)) return `props[${p.bind(name, 'String', key.slice(PROPERTY_KEY_PREFIX.length))}]`;
  const column = Object.hasOwn(ENVELOPE_COLUMNS, key) ? ENVELOPE_COLUMNS[key] : undefined;
  if (!column) throw new Error(`unknown key ${key}`);
  return column;
}

/** True for a touchpoints_resolved row the matcher matches (type and every condition). */
export function matcherExpr(m: FunnelMatcher, name: string, p: Params): string {
  const parts = [`type = ${p.bind(`${name}_type`, 'String', m.type)}`];
  m.where.forEach((c, i) => parts.push(`${keyExpr(c.key, `${name}_k${i}`, p)} IN ${p.bind(`${name}_v${i}`, 'Array(String)', c.values)}`));
  return parts.join(' AND ');
}

/** Bit k set when the row matches matcher k. */
function maskExpr(matchers: readonly FunnelMatcher[], prefix: string, p: Params): string {
  if (matchers.length === 0) return 'toUInt64(0)';
  return matchers.map((m, k) => `bitShiftLeft(toUInt64(${matcherExpr(m, `${prefix}${k}`, p)}), ${k})`).join(' + ');
}

/** Distinct states none of which another state dominates (`dominates(t, s)`: t at least as good as s). */
function antichain(states: string, dominates: (t: string, s: string) => string): string {
  return `arrayMap(xs -> arrayFilter(s -> NOT arrayExists(t -> t != s AND ${dominates('t', 's')}, xs), xs), [arrayDistinct(${states})])[1]`;
}

/** One anchor's window: the step and exclusion masks of the events after it, and the anchor's own step mask. */
interface Window {
  sm: string;
  em: string;
  /** the events' times and 1-based indexes among all the actor's events */
  ms: string;
  ix: string;
  anchorSm: string;
}

/** What a fold needs beyond the defaults: the attribution event, ended chains, the time of the last event, optional steps. */
interface FoldNeeds {
  attr: boolean;
  frozen: boolean;
  perStep: boolean;
  /** the funnel has optional steps: a chain may take one of several steps, and the result says which it counts at */
  optional: boolean;
  /** each chain carries the steps it took (only its own count under `remove`) */
  takenPerState: boolean;
  /** when each step was first reached (timeToConvert) */
  times: boolean;
}

function foldNeeds(spec: FunnelSpec): FoldNeeds {
  const o = funnelOptions(spec);
  return {
    attr: o.attribution === 'last_touch' || attributionStep(o.attribution) !== undefined,
    frozen: spec.order === 'strict' && o.exclusionEffect === 'remove',
    perStep: o.windowAnchor === 'per_step',
    optional: optionalMask(spec) !== 0,
    takenPerState: optionalMask(spec) !== 0 && o.exclusionEffect === 'remove',
    times: spec.timeToConvert === true,
  };
}

/**
 * An attempt's result as one UInt64: the level, and (when attribution needs
 * it) the attribution event in the low bits, inverted so that `greatest`
 * picks the furthest level and then the earliest event.
 */
const packResult = (needs: FoldNeeds, level: string, attr: string) => (needs.attr ? `bitOr(bitShiftLeft(toUInt64(${level}), 32), toUInt64(${ATTR_MAX} - ${attr}))` : level);
const resultLevel = (needs: FoldNeeds, r: string) => (needs.attr ? hi(r) : r);
const resultAttr = (r: string) => `(${ATTR_MAX} - ${lo(r)})`;

/**
 * Steps reached from one anchor (ordered and strict): see orderedReach in the
 * reference. With `times`, instead: when each step was first taken. With
 * optional steps the result is a tuple: the packed result and the steps the
 * attempt counts at (a mask).
 */
function orderedFold(spec: FunnelSpec, p: Params, win: Window, times = false): string {
  const o = funnelOptions(spec);
  const needs = foldNeeds(spec);
  const nth = attributionStep(o.attribution);
  const remove = o.exclusionEffect === 'remove';
  const n = p.bind('n_steps', 'UInt64', spec.steps.length);
  const { active, closing } = exclusionMasks(spec);
  const act = p.bind('active', 'Array(UInt64)', active);
  const clo = p.bind('closing', 'Array(UInt64)', closing);
  const windowMs = p.bind('window_ms', 'Int64', spec.windowMs);
  // a state is its packed UInt64, or a tuple of it with the time of its last event (per_step) and the steps it took (remove, with optional steps)
  const tupled = needs.perStep || needs.takenPerState;
  const pk = (s: string) => (tupled ? `tupleElement(${s}, 1)` : s);
  const lastMs = (s: string) => `tupleElement(${s}, 2)`;
  const takenOf = (s: string) => `tupleElement(${s}, ${needs.perStep ? 3 : 2})`;
  const state = (packed: string, ms: string, taken: string) =>
    tupled ? `(${[packed, ...(needs.perStep ? [ms] : []), ...(needs.takenPerState ? [taken] : [])].join(', ')})` : packed;
  const level = (s: string) => hi(pk(s));
  const flags = (s: string) => (needs.attr || needs.frozen ? `bitAnd(${pk(s)}, 255)` : lo(pk(s)));
  const attr = (s: string) => `bitAnd(bitShiftRight(${pk(s)}, 9), ${ATTR_MAX})`;
  const inWindow = (s: string) => `ms <= ${lastMs(s)} + ${windowMs}`;
  // the chain may take this event at all (it has not ended, the event is inside its window), as step c (an exclusion ending there must be clean)
  const open = (s: string) => [`${level(s)} < ${n}`, ...(needs.frozen ? [`NOT bitTest(${pk(s)}, 8)`] : []), ...(needs.perStep ? [inWindow(s)] : [])].join(' AND ');
  const takes = (s: string, c: string) => `bitTest(sm, ${c}) AND bitAnd(${pk(s)}, ${clo}[${c} + 1]) = 0`;
  // the attribution event of a chain that takes this event as step c
  const attrAfter = (s: string, c: string) => (o.attribution === 'last_touch' ? 'ix' : `if(${c} = ${nth}, ix, ${attr(s)})`);
  const advancedPacked = (s: string, c: string) =>
    `bitOr(bitShiftLeft(${c} + 1, 32), ${needs.attr ? `bitShiftLeft(${attrAfter(s, c)}, 9) + ` : ''}bitAnd(bitOr(${flags(s)}, em), bitAnd(${act}[${level(s)} + 1], ${act}[${c} + 2])))`;
  const taking = (s: string, c: string) => state(advancedPacked(s, c), 'ms', `bitOr(${takenOf(s)}, bitShiftLeft(toUInt64(1), ${c}))`);
  // the next step, or (past optional steps) a later one up to the first required step
  const takeable = needs.optional ? p.bind('takeable', 'Array(UInt64)', takeableSteps(spec)) : '';
  const advanced = needs.optional
    ? `arrayFlatten(arrayMap(s -> arrayMap(c -> ${taking('s', 'c')}, arrayFilter(c -> ${takes('s', 'c')}, bitPositionsToArray(bitAnd(sm, ${takeable}[${level('s')} + 1])))), arrayFilter(s -> ${open('s')}, acc.2)))`
    : `arrayMap(s -> ${taking('s', level('s'))}, arrayFilter(s -> ${open('s')} AND ${takes('s', level('s'))}, acc.2))`;
  // the event is not part of the chain: it adds the exclusions open at the chain's level (strict: and ends the chain)
  const flagged = (s: string) =>
    state(`bitOr(${pk(s)}, ${spec.order === 'strict' ? '256 + ' : ''}bitAnd(em, ${act}[${level(s)} + 1]))`, needs.perStep ? lastMs(s) : '', needs.takenPerState ? takenOf(s) : '');
  let kept: string | undefined;
  if (remove) kept = needs.perStep ? `arrayMap(s -> if(${inWindow('s')}, ${flagged('s')}, s), acc.2)` : `arrayMap(s -> ${flagged('s')}, acc.2)`;
  else if (spec.order === 'ordered') kept = needs.perStep ? `arrayMap(s -> ${flagged('s')}, arrayFilter(s -> ${inWindow('s')}, acc.2))` : `arrayMap(s -> ${flagged('s')}, acc.2)`;
  const next = kept === undefined ? advanced : `arrayConcat(${kept}, ${advanced})`;
  // same level, a subset of the flags (and the same ended-ness, an earlier attribution event, a later or under `remove` the same last event, a superset of the steps taken): at least as good
  const plain = !needs.attr && !needs.frozen && !tupled;
  const states = antichain(next, (t, u) =>
    plain
      ? `${hi(t)} = ${hi(u)} AND bitAnd(${t}, ${u}) = ${t}`
      : [
          `${level(t)} = ${level(u)} AND bitAnd(${flags(t)}, ${flags(u)}) = ${flags(t)}`,
          ...(needs.frozen ? [`bitTest(${pk(t)}, 8) = bitTest(${pk(u)}, 8)`] : []),
          ...(needs.attr ? [`${attr(t)} <= ${attr(u)}`] : []),
          ...(needs.perStep ? [`${lastMs(t)} ${remove ? '=' : '>='} ${lastMs(u)}`] : []),
          ...(needs.takenPerState ? [`bitAnd(${takenOf(t)}, ${takenOf(u)}) = ${takenOf(u)}`] : []),
        ].join(' AND '),
  );
  const initAttr = o.attribution === 'last_touch' || nth === 0 ? 'anchor_ix' : '0';
  const init = state(`bitOr(bitShiftLeft(toUInt64(1), 32), ${needs.attr ? `bitShiftLeft(toUInt64(${initAttr}), 9)` : '0'})`, 'anchor_ms', 'toUInt64(1)');
  const initResult = packResult(needs, 'toUInt64(1)', initAttr);
  const withMs = needs.perStep || times;
  const args = ['sm', 'em', ...(withMs ? ['ms'] : []), ...(needs.attr ? ['ix'] : [])];
  const arrays = [win.sm, win.em, ...(withMs ? [win.ms] : []), ...(needs.attr ? [win.ix] : [])];
  const fold = (step: string, initial: string) => `arrayFold((acc, ${args.join(', ')}) -> ${step}, ${arrays.join(', ')}, ${initial})`;
  // under `remove`: the attempt counts at its furthest step through a chain no exclusion event has touched, or nowhere
  const furthest = `arrayMax(arrayMap(t -> ${level('t')}, xs))`;
  const clean = (s: string) => `${flags(s)} = 0 AND ${level(s)} = ${furthest}`;
  const cleanResult = (states: string) => `arrayMap(xs -> arrayMax(arrayMap(s -> if(${clean('s')}, ${packResult(needs, level('s'), attr('s'))}, 0), xs)), [${states}])[1]`;
  if (!needs.optional) {
    const best = `greatest(acc.1, arrayMax(arrayMap(s -> if(${open('s')} AND ${takes('s', level('s'))}, ${packResult(needs, `${level('s')} + 1`, attrAfter('s', level('s')))}, 0), acc.2)))`;
    if (times) {
      // the furthest level grows by at most one per event: note the event's time when it does
      const noted = `if(${resultLevel(needs, best)} > length(acc.3), arrayPushBack(acc.3, ms), acc.3)`;
      return `tupleElement(${fold(`(${best}, ${states}, ${noted})`, `(${initResult}, [${init}], [anchor_ms])`)}, 3)`;
    }
    const folded = fold(`(${best}, ${states})`, `(${initResult}, [${init}])`);
    return remove ? cleanResult(`tupleElement(${folded}, 2)`) : `tupleElement(${folded}, 1)`;
  }
  // With optional steps the states after an event are bound once (st): the furthest result over them (states kept from
  // before were counted when they advanced), the steps taken by any chain so far (tk), and when each was first taken.
  const best = `greatest(acc.1, arrayMax(arrayMap(s -> ${packResult(needs, level('s'), needs.attr ? attr('s') : '0')}, st)))`;
  const taken = `bitOr(acc.3, arrayFold((m, s) -> bitOr(m, bitShiftLeft(toUInt64(1), toUInt64(${level('s')} - 1))), st, toUInt64(0)))`;
  if (times) {
    const noted = `arrayMap((t, k) -> if(bitTest(bitAnd(tk, bitNot(acc.3)), k), ms, t), acc.4, range(${n}))`;
    const step = `arrayMap(st -> arrayMap(tk -> (${best}, st, tk, ${noted}), [${taken}])[1], [${states}])[1]`;
    return `tupleElement(${fold(step, `(${initResult}, [${init}], toUInt64(1), arrayMap(k -> if(k = 0, anchor_ms, toInt64(0)), range(${n})))`)}, 4)`;
  }
  const folded = fold(`arrayMap(st -> (${best}, st, ${taken}), [${states}])[1]`, `(${initResult}, [${init}], toUInt64(1))`);
  if (!remove) return `arrayMap(f -> (f.1, f.3), [${folded}])[1]`;
  const cleanTaken = `arrayMap(xs -> arrayFold((m, s) -> if(${clean('s')}, bitOr(m, ${takenOf('s')}), m), xs, toUInt64(0)), [st])[1]`;
  return `arrayMap(st -> (${cleanResult('st')}, ${cleanTaken}), [tupleElement(${folded}, 2)])[1]`;
}

/**
 * Steps reached from one anchor (unordered): see unorderedReach in the
 * reference. With `times`, instead: when each step was first covered.
 */
function unorderedFold(spec: FunnelSpec, p: Params, win: Window, times = false): string {
  const n = p.bind('n_steps', 'UInt64', spec.steps.length);
  const init = `arrayMap(b -> bitOr(bitShiftLeft(toUInt64(b), 32), bitShiftLeft(toUInt64(1), b)), arrayFilter(b -> bitTest(${win.anchorSm}, b), range(${n})))`;
  const prefix = (s: string) => `toUInt64(bitCount(bitAnd(bitNot(${lo(s)}), ${lo(s)} + 1) - 1))`;
  const reached = (states: string) => `arrayMax(arrayMap(s -> if(${prefix('s')} > ${hi('s')}, ${prefix('s')}, 0), ${states}))`;
  const step = (acc: string) => {
    const grown = `arrayConcat(${acc}, arrayFlatten(arrayMap(s -> arrayMap(c -> bitOr(s, bitShiftLeft(toUInt64(1), c)), arrayFilter(c -> bitTest(sm, c) AND NOT bitTest(s, c), range(${n}))), ${acc})))`;
    // same anchor step, a superset of the steps taken: at least as good
    return antichain(grown, (t, s) => `${hi(t)} = ${hi(s)} AND bitAnd(${t}, ${s}) = ${s}`);
  };
  if (!times) return reached(`arrayFold((acc, sm, em) -> ${step('acc')}, ${win.sm}, ${win.em}, ${init})`);
  // the prefix done only grows (a superset replaces its subsets): note the event's time for each step it newly covers
  const noted = (states: string, ms: string, known: string) => `arrayConcat(${known}, arrayWithConstant(greatest(${reached(states)}, length(${known})) - length(${known}), ${ms}))`;
  const fold = `arrayFold((acc, sm, em, ms) -> arrayMap(xs -> (xs, ${noted('xs', 'ms', 'acc.2')}), [${step('acc.1')}])[1], ${win.sm}, ${win.em}, ${win.ms}, (${init}, ${noted(init, 'anchor_ms', 'emptyArrayInt64()')}))`;
  return `tupleElement(${fold}, 2)`;
}

/** True when the rows carry `values` (all_values attribution with a breakdown). */
export const hasFunnelValues = (spec: FunnelSpec) => spec.breakdown !== undefined && funnelOptions(spec).attribution === 'all_values';

/**
 * One row per unit (actor, account or attempt: see `unit` in the reference)
 * that reaches step 0: actor_id (the unit id), reached (steps), breakdown
 * (the attributed value; with several keys an Array(String)) and entered_ms
 * (the counted attempt's anchor time);
 * under all_values also `value_reach`, [(value, reached)] sorted by value;
 * with timeToConvert `reached_at`, when each step was first reached. With
 * optional steps also `skipped` (a mask of the optional steps below `reached`
 * the unit does not count at), a third element of each value_reach entry
 * (a mask of the steps it counts at), and reached_at holds 0 at a step
 * never taken.
 */
export function funnelActorsSql(spec: FunnelSpec, p: Params): string {
  assertValidFunnelSpec(spec);
  const o = funnelOptions(spec);
  const needs = foldNeeds(spec);
  const from = p.bind('from_ms', 'Int64', spec.fromMs);
  const to = p.bind('to_ms', 'Int64', spec.toMs);
  const horizonMs = funnelHorizonMs(spec);
  // with a tie grace the funnel reads times floored to their slot: an event's real time may be up to a slot later than the one it is read at
  const grace = o.tieGraceMs;
  const scanTo = p.bind('scan_to_ms', 'Int64', (o.dateScope === 'all_steps' ? spec.toMs : spec.toMs + horizonMs) + grace);
  const eventMs = grace > 0 ? `(x_ms - positiveModulo(x_ms, ${p.bind('tie_grace_ms', 'Int64', grace)}))` : 'x_ms';
  // all_steps: nothing read at or after `to` (read at the slot's time: an event in the slot `to` falls in is looked at)
  const floorCut = grace > 0 && o.dateScope === 'all_steps' ? ` AND ms < ${to}` : '';
  const horizon = p.bind('horizon_ms', 'Int64', horizonMs);
  const sm = maskExpr(spec.steps, 's', p);
  const em = maskExpr(spec.exclusions, 'x', p);
  // without a breakdown every actor's value is '': no column to carry through the grouping
  const keys = breakdownKeys(spec);
  const several = typeof spec.breakdown !== 'string';
  // several keys: one Array(String) per event, compared and ordered element by element
  const bd = keys === undefined ? undefined : several ? `[${keys.map((key, i) => keyExpr(key, `bd_key${i}`, p)).join(', ')}]` : keyExpr(keys[0]!, 'bd_key', p);
  const noValue = keys !== undefined && several ? `[${keys.map(() => `''`).join(', ')}]` : `''`;
  // the holdConstant values of an event, as one array (none: no column)
  const held = spec.holdConstant?.length ? `[${spec.holdConstant.map((key, i) => keyExpr(key, `hold_key${i}`, p)).join(', ')}]` : undefined;
  // a floored time may fall before `from` though the event is after it
  const isAnchor = `(${spec.order === 'unordered' ? 's != 0' : 'bitTest(s, 0)'} AND t < ${to}${grace > 0 ? ` AND t >= ${from}` : ''})`;
  // per anchor: the folded events after it up to its time + horizon (inclusive); fmss is sorted
  const slice = (arr: string) => `arraySlice(${arr}, win_before + 1, win_count)`;
  // an event whose held values differ from the anchor's takes no step
  const steps = held === undefined ? slice('fsms') : `arrayMap((s, h) -> if(h = anchor_held, s, toUInt64(0)), ${slice('fsms')}, ${slice('fhelds')})`;
  const win: Window = { sm: steps, em: slice('fems'), ms: slice('fmss'), ix: slice('fidx'), anchorSm: 'anchor_sm' };
  const fold = spec.order === 'unordered' ? unorderedFold(spec, p, win) : orderedFold(spec, p, win);
  // a fold per attempt, its arguments passed rather than captured
  const withMs = needs.perStep || needs.times;
  const perAnchor = (f: string) =>
    `arrayMap((win_before, win_count, anchor_sm${needs.attr ? ', anchor_ix' : ''}${withMs ? ', anchor_ms' : ''}${held === undefined ? '' : ', anchor_held'}) -> ${f}, befores, counts, anchor_sms${needs.attr ? ', anchors' : ''}${withMs ? ', anchor_mss' : ''}${held === undefined ? '' : ', anchor_helds'})`;
  // strict needs every event of the actor (any event breaks a chain); the others only matching ones
  const relevant = spec.order === 'strict' ? '' : 'WHERE sm != 0 OR em != 0';
  // The events a fold reads, and per event how many of them are at or before
  // it. ordered: every state is past step 0, so an event matching step 0
  // alone and no exclusion changes none, and most visitors' windows hold
  // nothing but such events (another visit). Dropping them once per actor
  // spares the fold per anchor; strict and unordered need every event.
  const folded =
    spec.order === 'ordered'
      ? `arrayMap((s, e) -> bitAnd(s, bitNot(toUInt64(1))) != 0 OR e != 0, sms, ems) AS moves, arrayCumSum(moves) AS folded_upto,
          arrayFilter((t, m) -> m, mss, moves) AS fmss, arrayFilter((s, m) -> m, sms, moves) AS fsms, arrayFilter((e, m) -> m, ems, moves) AS fems${needs.attr ? ', arrayFilter((i, m) -> m, arrayEnumerate(sms), moves) AS fidx' : ''}${held === undefined ? '' : ', arrayFilter((h, m) -> m, helds, moves) AS fhelds'}`
      : `arrayEnumerate(sms) AS folded_upto, mss AS fmss, sms AS fsms, ems AS fems${needs.attr ? ', folded_upto AS fidx' : ''}${held === undefined ? '' : ', helds AS fhelds'}`;
  // The attempts: anchors in the range; without re-entry only those after
  // the previous kept one's horizon; with entry "first" only the first.
  const keep =
    o.reentry
      ? undefined
      : `tupleElement(arrayFold((acc, t) -> if(t > acc.2, (arrayPushBack(acc.1, 1), t + ${horizon}), (arrayPushBack(acc.1, 0), acc.2)), all_anchor_mss, (emptyArrayUInt8(), toInt64(-9223372036854775807))), 1)`;
  const firstOnly = o.entry === 'first' && o.unit !== 'totals';
  const attempts = (name: string, all: string) => {
    const kept = keep === undefined ? all : `arrayFilter((x, k) -> k, ${all}, attempt_keep)`;
    return `${firstOnly ? `arraySlice(${kept}, 1, 1)` : kept} AS ${name}`;
  };
  const restricted = keep !== undefined || firstOnly;
  const anchorArrays = (name: string, first: string, values: string) => {
    const all = `arrayFilter((${first}, s, t) -> ${isAnchor}, ${values}, sms, mss)`;
    return restricted ? `${all} AS all_${name}, ${attempts(name, `all_${name}`)}` : `${all} AS ${name}`;
  };
  // per event, sorted by (time, position): what the folds and the outcome read
  // funnel_order: at one instant, events by the first step they match (none: last), then the log
  const ranked = o.ties === 'funnel_order';
  const fields = ['ms', ...(ranked ? ['rank'] : []), 'position', 'sm', 'em', ...(bd === undefined ? [] : ['bd']), ...(held === undefined ? [] : ['held'])];
  const carried = [...(bd === undefined ? [] : ['bds']), ...(o.unit === 'totals' ? ['poss'] : [])];
  // Per actor, arrays over its attempts (no lambda captures an actor's arrays
  // where a second array argument does, so they are not copied per element).
  const perActor = `
      SELECT actor_id, mss${carried.map((c) => `, ${c}`).join('')},
        ${anchorArrays('anchor_mss', 'a', 'mss')},${keep === undefined ? '' : `
        ${keep} AS attempt_keep,`}
        ${anchorArrays('anchors', 'i', 'arrayEnumerate(mss)')},
        ${anchorArrays('befores', 'u', 'folded_upto')},
        ${anchorArrays('anchor_sms', 'a', 'sms')},${held === undefined ? '' : `
        ${anchorArrays('anchor_helds', 'a', 'helds')},`}
        arrayMap((anchor_ms, b) -> arrayCount(x -> x <= anchor_ms + ${horizon}, fmss) - b, anchor_mss, befores) AS counts,
        ${needs.optional ? `${perAnchor(fold)} AS attempt_results, arrayMap(r -> r.1, attempt_results) AS results, arrayMap(r -> r.2, attempt_results) AS takens` : `${perAnchor(fold)} AS results`},${needs.times ? `
        ${perAnchor(spec.order === 'unordered' ? unorderedFold(spec, p, win, true) : orderedFold(spec, p, win, true))} AS reach_times,` : ''}
        ${needs.attr ? `arrayMap(r -> ${resultLevel(needs, 'r')}, results)` : 'results'} AS levels
      FROM (
        SELECT actor_id,
          arraySort(groupArray((${fields.join(', ')}))) AS evs,
          ${fields.flatMap((f, i) => ((f === 'position' && o.unit !== 'totals') || f === 'rank' ? [] : [`arrayMap(e -> e.${i + 1}, evs) AS ${f === 'position' ? 'poss' : `${f}s`}`])).join(', ')},
          ${folded}
        FROM (
          SELECT actor_id, toUnixTimestamp64Milli(occurred_at) AS x_ms, ${eventMs} AS ms, position, ${sm} AS sm, ${em} AS em${ranked ? ', if(sm = 0, 32, bitCount(bitAnd(bitNot(sm), sm - 1))) AS rank' : ''}${bd === undefined ? '' : `, ${bd} AS bd`}${held === undefined ? '' : `, ${held} AS held`}
          FROM ${o.unit === 'accounts_pooled' ? pooledTouchpoints(p) : 'touchpoints_resolved'}
          WHERE occurred_at >= fromUnixTimestamp64Milli(${from}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli(${scanTo}, 'UTC')${floorCut}
        )
        ${relevant}
        GROUP BY actor_id
      )`;
  // the breakdown value of attempt k: its anchor's, or its attribution event's ('' when it has none)
  const nth = attributionStep(o.attribution);
  const valueOf = (k: string) => {
    if (bd === undefined) return `''`;
    if (!needs.attr) return `bds[anchors[${k}]]`;
    const attr = resultAttr(`results[${k}]`);
    return `if(${attr} = 0${nth === undefined ? '' : ` OR levels[${k}] <= ${nth}`}, ${noValue}, bds[${attr}])`;
  };
  const allValues = hasFunnelValues(spec);
  // with optional steps: the optional steps below an attempt's level it did not take, as a mask
  const optionals = needs.optional ? p.bind('optional_mask', 'UInt64', optionalMask(spec)) : '';
  const skipped = (k: string) => (needs.optional ? `, bitAnd(bitAnd(${optionals}, bitShiftLeft(toUInt64(1), levels[${k}]) - 1), bitNot(takens[${k}])) AS skipped` : '');
  if (o.unit === 'totals') {
    return `
    SELECT concat(actor_id, '~', leftPad(toString(poss[anchors[k]]), ${ATTEMPT_POSITION_DIGITS}, '0')) AS actor_id, levels[k] AS reached, ${valueOf('k')} AS breakdown, anchor_mss[k] AS entered_ms${skipped('k')}${needs.times ? ', arraySlice(reach_times[k], 1, levels[k]) AS reached_at' : ''}${allValues ? `, [(${valueOf('k')}, levels[k]${needs.optional ? ', takens[k]' : ''})] AS value_reach` : ''}
    FROM (${perActor})
    ARRAY JOIN arrayFilter(k -> levels[k] > 0, arrayEnumerate(levels)) AS k`;
  }
  // the counted attempt: the furthest-reaching, the earliest among equals
  const perLead = `
    SELECT actor_id, reached, ${valueOf('best')} AS breakdown, anchor_mss[best] AS entered_ms${skipped('best')}${needs.times ? ', arraySlice(reach_times[best], 1, reached) AS reached_at' : ''}${allValues ? `, ${furthestPerValue(`arrayFilter(x -> x.2 > 0, arrayMap((a, l${needs.optional ? ', t' : ''}) -> (bds[a], l${needs.optional ? ', t' : ''}), anchors, levels${needs.optional ? ', takens' : ''}))`, needs.optional)} AS value_reach` : ''}
    FROM (SELECT *, arrayMax(levels) AS reached, indexOf(levels, reached) AS best FROM (${perActor}))
    WHERE reached > 0`;
  // pooled: the histories folded were the accounts' already
  if (o.unit === 'leads' || o.unit === 'accounts_pooled') return perLead;
  // an account is its furthest actor, the earliest entered then the smallest id among equals
  const rank = '(toInt64(0) - toInt64(reached), entered_ms, actor_id)';
  return `
    SELECT unit_id AS actor_id, unit_reached AS reached, unit_breakdown AS breakdown, unit_entered_ms AS entered_ms${needs.optional ? ', unit_skipped AS skipped' : ''}${needs.times ? ', unit_reached_at AS reached_at' : ''}${allValues ? `, ${furthestPerValue('unit_values', needs.optional)} AS value_reach` : ''}
    FROM (
      SELECT if(account = '', actor_id, concat(${p.bind('account_prefix', 'String', ACCOUNT_UNIT_PREFIX)}, account)) AS unit_id,
        max(reached) AS unit_reached, argMin(breakdown, ${rank}) AS unit_breakdown, argMin(entered_ms, ${rank}) AS unit_entered_ms${needs.optional ? `, argMin(skipped, ${rank}) AS unit_skipped` : ''}${needs.times ? `, argMin(reached_at, ${rank}) AS unit_reached_at` : ''}${allValues ? ', groupArrayArray(value_reach) AS unit_values' : ''}
      FROM (${perLead}) AS lead
      LEFT JOIN (${actorAccounts()}) AS accounts USING (actor_id)
      GROUP BY unit_id
    )`;
}

/** Each actor's account: the last non-empty accountId its events name, over the whole log (actor_id, account), or over the events `scan` keeps. */
const actorAccounts = (scan?: string) =>
  `SELECT actor_id, argMax(account_id, (occurred_at, position)) AS account FROM touchpoints_resolved WHERE account_id != ''${scan === undefined ? '' : ` AND ${scan}`} GROUP BY actor_id`;

/**
 * The touchpoints with actor_id naming the history an event is pooled into
 * under `accounts_pooled`: the account the event names, else its actor's
 * account (over the events `scan` keeps, when given), else the actor itself
 * (the reference's rule, pooledHistoryOf).
 */
export function pooledTouchpoints(p: Params, scan?: string): string {
  const prefix = p.bind('account_prefix', 'String', ACCOUNT_UNIT_PREFIX);
  return `(
            SELECT * REPLACE (if(account_id != '', concat(${prefix}, account_id), if(account != '', concat(${prefix}, account), actor_id)) AS actor_id)
            FROM touchpoints_resolved LEFT JOIN (${actorAccounts(scan)}) AS accounts USING (actor_id)
          )`;
}

/**
 * [(value, reached)] with one entry per value, as far as the furthest, sorted
 * by value; with optional steps [(value, reached, steps counted at)], the
 * steps any entry of the value counts at.
 */
function furthestPerValue(pairs: string, withTaken: boolean): string {
  const taken = withTaken ? `, arrayFold((m, x) -> if(x.1 = v, bitOr(m, x.3), m), xs, toUInt64(0))` : '';
  return `arrayMap(xs -> arraySort(arrayMap(v -> (v, arrayMax(arrayMap(x -> if(x.1 = v, x.2, 0), xs))${taken}), arrayDistinct(arrayMap(x -> x.1, xs)))), [${pairs}])[1]`;
}
