import type { FunnelMatcher, FunnelSpec } from '@sluice/domain';
import { PROPERTY_KEY_PREFIX, assertValidFunnelSpec, exclusionMasks } from '@sluice/domain';
import type { QueryParams } from './client.js';

/**
 * SQL for the funnel semantics documented in @sluice/domain's
 * reference/funnel.ts, computed the same way: per actor, events sorted by
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

/** A state of a chain packs (level or anchor step) << 32 | flags or step mask, in a UInt64. */
const LOW = '4294967295';
const hi = (s: string) => `bitShiftRight(${s}, 32)`;
const lo = (s: string) => `bitAnd(${s}, ${LOW})`;

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
  anchorSm: string;
}

/** Steps reached from one anchor (ordered and strict): see orderedReach in the reference. */
function orderedFold(spec: FunnelSpec, p: Params, win: Window): string {
  const n = p.bind('n_steps', 'UInt64', spec.steps.length);
  const { active, closing } = exclusionMasks(spec);
  const act = p.bind('active', 'Array(UInt64)', active);
  const clo = p.bind('closing', 'Array(UInt64)', closing);
  const canAdvance = (s: string) => `${hi(s)} < ${n} AND bitTest(sm, ${hi(s)}) AND bitAnd(${s}, ${clo}[${hi(s)} + 1]) = 0`;
  const advanced = `arrayMap(s -> bitOr(bitShiftLeft(${hi('s')} + 1, 32), bitAnd(bitOr(${lo('s')}, em), bitAnd(${act}[${hi('s')} + 1], ${act}[${hi('s')} + 2]))), arrayFilter(s -> ${canAdvance('s')}, acc.2))`;
  const stayed = `arrayMap(s -> bitOr(s, bitAnd(em, ${act}[${hi('s')} + 1])), acc.2)`;
  const next = spec.order === 'strict' ? advanced : `arrayConcat(${stayed}, ${advanced})`;
  // same level, a subset of the flags: at least as good
  const states = antichain(next, (t, s) => `${hi(t)} = ${hi(s)} AND bitAnd(${t}, ${s}) = ${t}`);
  const best = `greatest(acc.1, arrayMax(arrayMap(s -> if(${canAdvance('s')}, ${hi('s')} + 1, 0), acc.2)))`;
  return `tupleElement(arrayFold((acc, sm, em) -> (${best}, ${states}), ${win.sm}, ${win.em}, (toUInt64(1), [bitShiftLeft(toUInt64(1), 32)])), 1)`;
}

/** Steps reached from one anchor (unordered): see unorderedReach in the reference. */
function unorderedFold(spec: FunnelSpec, p: Params, win: Window): string {
  const n = p.bind('n_steps', 'UInt64', spec.steps.length);
  const init = `arrayMap(b -> bitOr(bitShiftLeft(toUInt64(b), 32), bitShiftLeft(toUInt64(1), b)), arrayFilter(b -> bitTest(${win.anchorSm}, b), range(${n})))`;
  const grown = `arrayConcat(acc, arrayFlatten(arrayMap(s -> arrayMap(c -> bitOr(s, bitShiftLeft(toUInt64(1), c)), arrayFilter(c -> bitTest(sm, c) AND NOT bitTest(s, c), range(${n}))), acc)))`;
  // same anchor step, a superset of the steps taken: at least as good
  const states = antichain(grown, (t, s) => `${hi(t)} = ${hi(s)} AND bitAnd(${t}, ${s}) = ${s}`);
  const final = `arrayFold((acc, sm, em) -> ${states}, ${win.sm}, ${win.em}, ${init})`;
  const prefix = (s: string) => `toUInt64(bitCount(bitAnd(bitNot(${lo(s)}), ${lo(s)} + 1) - 1))`;
  return `arrayMax(arrayMap(s -> if(${prefix('s')} > ${hi('s')}, ${prefix('s')}, 0), ${final}))`;
}

/**
 * One row per actor that reaches step 0: actor_id, reached (steps), breakdown
 * (value on the best chain's anchor) and entered_ms (that anchor's time).
 */
export function funnelActorsSql(spec: FunnelSpec, p: Params): string {
  assertValidFunnelSpec(spec);
  const from = p.bind('from_ms', 'Int64', spec.fromMs);
  const to = p.bind('to_ms', 'Int64', spec.toMs);
  const scanTo = p.bind('scan_to_ms', 'Int64', spec.toMs + spec.windowMs);
  const windowMs = p.bind('window_ms', 'Int64', spec.windowMs);
  const sm = maskExpr(spec.steps, 's', p);
  const em = maskExpr(spec.exclusions, 'x', p);
  // without a breakdown every actor's value is '': no column to carry through the grouping
  const bd = spec.breakdown === undefined ? undefined : keyExpr(spec.breakdown, 'bd_key', p);
  const isAnchor = `(${spec.order === 'unordered' ? 's != 0' : 'bitTest(s, 0)'} AND t < ${to})`;
  // per anchor: the folded events after it up to its time + window (inclusive); fmss is sorted
  const win: Window = { sm: 'arraySlice(fsms, win_before + 1, win_count)', em: 'arraySlice(fems, win_before + 1, win_count)', anchorSm: 'anchor_sm' };
  const fold = spec.order === 'unordered' ? unorderedFold(spec, p, win) : orderedFold(spec, p, win);
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
          arrayFilter((t, m) -> m, mss, moves) AS fmss, arrayFilter((s, m) -> m, sms, moves) AS fsms, arrayFilter((e, m) -> m, ems, moves) AS fems`
      : 'arrayEnumerate(sms) AS folded_upto, mss AS fmss, sms AS fsms, ems AS fems';
  // Per actor, arrays over its anchors (no lambda captures an actor's arrays
  // where a second array argument does, so they are not copied per element);
  // the best chain is the furthest-reaching, the earliest anchor among equals.
  return `
    SELECT actor_id, reached, ${bd === undefined ? `''` : 'bds[best]'} AS breakdown, mss[best] AS entered_ms
    FROM (
      SELECT actor_id, mss${bd === undefined ? '' : ', bds'},
        arrayFilter((i, s, t) -> ${isAnchor}, arrayEnumerate(mss), sms, mss) AS anchors,
        arrayFilter((u, s, t) -> ${isAnchor}, folded_upto, sms, mss) AS befores,
        arrayFilter((a, s, t) -> ${isAnchor}, sms, sms, mss) AS anchor_sms,
        arrayMap((anchor_ms, b) -> arrayCount(x -> x <= anchor_ms + ${windowMs}, fmss) - b, arrayFilter((a, s, t) -> ${isAnchor}, mss, sms, mss), befores) AS counts,
        arrayMap((win_before, win_count, anchor_sm) -> ${fold}, befores, counts, anchor_sms) AS levels,
        arrayMax(levels) AS reached,
        anchors[indexOf(levels, reached)] AS best
      FROM (
        SELECT actor_id,
          arraySort(groupArray((ms, position, sm, em${bd === undefined ? '' : ', bd'}))) AS evs,
          arrayMap(e -> e.1, evs) AS mss, arrayMap(e -> e.3, evs) AS sms, arrayMap(e -> e.4, evs) AS ems${bd === undefined ? '' : ', arrayMap(e -> e.5, evs) AS bds'},
          ${folded}
        FROM (
          SELECT actor_id, toUnixTimestamp64Milli(occurred_at) AS ms, position, ${sm} AS sm, ${em} AS em${bd === undefined ? '' : `, ${bd} AS bd`}
          FROM touchpoints_resolved
          WHERE occurred_at >= fromUnixTimestamp64Milli(${from}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli(${scanTo}, 'UTC')
        )
        ${relevant}
        GROUP BY actor_id
      )
    )
    WHERE reached > 0`;
}
