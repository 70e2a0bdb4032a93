import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FunnelActorOutcome, FunnelExclusion, FunnelMatcher, FunnelOrder, FunnelSpec } from './funnel.js';
import { countFunnel, funnelOutcomes, matchesFunnelMatcher, valueOfKey } from './funnel.js';
import type { FunnelTouchpoint } from './touchpoint.js';
import { flattenProperties, touchpointsFromLog } from './touchpoint.js';

const tp = (actorId: string, occurredAtMs: number, position: number, type: string, source = '', properties: Record<string, string> = {}): FunnelTouchpoint => ({
  actorId,
  occurredAtMs,
  position,
  type,
  fields: { source, channel: '', campaign: '', accountId: '' },
  properties,
});
const step = (type: string, where: FunnelMatcher['where'] = []): FunnelMatcher => ({ type, where });
const spec = (steps: FunnelMatcher[], more: Partial<FunnelSpec> = {}): FunnelSpec => ({
  steps,
  order: 'ordered',
  windowMs: 10,
  fromMs: 0,
  toMs: 1000,
  exclusions: [],
  ...more,
});
const reachedBy = (tps: FunnelTouchpoint[], s: FunnelSpec) => Object.fromEntries(funnelOutcomes(tps, s).map((o) => [o.actorId, o.reached]));

describe('funnel reference, by example', () => {
  const abc = [step('a'), step('b'), step('c')];

  it('counts an actor once however many chains it has, and a step exactly windowMs after the anchor is inside', () => {
    const tps = [tp('L1', 0, 1, 'a'), tp('L1', 5, 2, 'a'), tp('L1', 10, 3, 'b'), tp('L1', 11, 4, 'c'), tp('L2', 0, 5, 'a'), tp('L2', 11, 6, 'b')];
    expect(reachedBy(tps, spec(abc))).toEqual({ L1: 3, L2: 1 });
    expect(countFunnel(tps, spec(abc)).steps.map((s) => s.leads)).toEqual([2, 1, 1]);
  });

  it('orders equal timestamps by log position', () => {
    const tps = [tp('L1', 5, 2, 'a'), tp('L1', 5, 1, 'b')];
    expect(reachedBy(tps, spec([step('a'), step('b')]))).toEqual({ L1: 1 });
    expect(reachedBy(tps, spec([step('b'), step('a')]))).toEqual({ L1: 2 });
  });

  it('strict: any other event of the actor between two steps breaks the chain', () => {
    const tps = [tp('L1', 0, 1, 'a'), tp('L1', 1, 2, 'x'), tp('L1', 2, 3, 'b'), tp('L1', 3, 4, 'a'), tp('L1', 4, 5, 'b'), tp('L1', 5, 6, 'c')];
    expect(reachedBy(tps, spec(abc, { order: 'strict' }))).toEqual({ L1: 3 });
    expect(reachedBy(tps.slice(0, 4), spec(abc, { order: 'strict' }))).toEqual({ L1: 1 });
  });

  it('unordered: steps 0..k in any order, distinct events, window from the earliest', () => {
    const s = spec([step('a'), step('b'), step('b')], { order: 'unordered' });
    expect(reachedBy([tp('L1', 0, 1, 'b'), tp('L1', 3, 2, 'a')], s)).toEqual({ L1: 2 });
    expect(reachedBy([tp('L1', 0, 1, 'b'), tp('L1', 3, 2, 'a'), tp('L1', 4, 3, 'b')], s)).toEqual({ L1: 3 });
    // only a `b` is in the date range: it can anchor steps 0..1 only if an `a` follows it
    expect(reachedBy([tp('L1', 0, 1, 'a'), tp('L1', 3, 2, 'b')], { ...s, fromMs: 1 })).toEqual({});
  });

  it('unordered: finds the assignment a greedy one would miss', () => {
    const s = spec([step('v'), step('v', [{ key: 'source', values: ['g'] }])], { order: 'unordered' });
    expect(reachedBy([tp('L1', 0, 1, 'v', 'g'), tp('L1', 1, 2, 'v', 'd')], s)).toEqual({ L1: 2 });
  });

  it('exclusion between steps: the actor stops at afterStep unless another chain avoids it', () => {
    const ex: FunnelExclusion = { type: 'x', where: [], afterStep: 1, beforeStep: 2 };
    const s = spec(abc, { exclusions: [ex] });
    expect(reachedBy([tp('L1', 0, 1, 'a'), tp('L1', 1, 2, 'b'), tp('L1', 2, 3, 'x'), tp('L1', 3, 4, 'c')], s)).toEqual({ L1: 2 });
    // a later b after the x gives a clean chain a, b', c
    expect(reachedBy([tp('L1', 0, 1, 'a'), tp('L1', 1, 2, 'b'), tp('L1', 2, 3, 'x'), tp('L1', 3, 4, 'b'), tp('L1', 4, 5, 'c')], s)).toEqual({ L1: 3 });
    // an x before step 1 is outside the span
    expect(reachedBy([tp('L1', 0, 1, 'a'), tp('L1', 1, 2, 'x'), tp('L1', 2, 3, 'b'), tp('L1', 3, 4, 'c')], s)).toEqual({ L1: 3 });
  });

  it('breaks down by the anchor of the best chain, the earliest among equals', () => {
    const s = spec([step('a'), step('b')], { breakdown: 'source' });
    const tps = [tp('L1', 0, 1, 'a', 'ads'), tp('L1', 20, 2, 'a', 'seo'), tp('L1', 25, 3, 'b'), tp('L2', 0, 4, 'a', 'ads'), tp('L2', 1, 5, 'a', 'seo')];
    expect(funnelOutcomes(tps, s)).toEqual([
      { actorId: 'L1', reached: 2, breakdown: 'seo', enteredAtMs: 20 },
      { actorId: 'L2', reached: 1, breakdown: 'ads', enteredAtMs: 0 },
    ]);
    const counts = countFunnel(tps, s);
    expect(counts.breakdown.map((g) => [g.value, g.steps.map((x) => x.leads)])).toEqual([
      ['ads', [1, 0]],
      ['seo', [1, 1]],
    ]);
    expect(counts.steps[1]).toEqual({ index: 1, leads: 1, conversionFromPrevious: 0.5, conversionFromFirst: 0.5, droppedFromPrevious: 1 });
  });

  it('anchors only inside [from, to)', () => {
    const tps = [tp('L1', 100, 1, 'a'), tp('L2', 200, 2, 'a'), tp('L3', 199, 3, 'a')];
    expect(reachedBy(tps, spec([step('a')], { fromMs: 100, toMs: 200 }))).toEqual({ L1: 1, L3: 1 });
  });
});

describe('touchpoints from a log', () => {
  it('gives anonymous history to the lead of the first link, whatever the order of the array', () => {
    const log = [
      { position: 1, type: 'visit', data: { occurredAt: '2026-03-01T10:00:00Z', anonymousId: 'b1', source: 'ads' } },
      { position: 2, type: 'form_submit', data: { occurredAt: '2026-03-01T10:01:00+01:00', anonymousId: 'b1', leadId: 'L1', properties: { formId: 'f', x: { n: 2 } } } },
      { position: 3, type: 'identity_linked', data: { anonymousId: 'b1', leadId: 'L1' } },
      { position: 5, type: 'identity_linked', data: { anonymousId: 'b1', leadId: 'L2' } },
      { position: 6, type: 'visit', data: { occurredAt: '2026-03-01T10:02:00.123456Z', anonymousId: 'b1' } },
      { position: 7, type: 'visit', data: { occurredAt: '2026-03-01T10:03:00Z', anonymousId: 'b2' } },
    ];
    const tps = touchpointsFromLog([...log].reverse());
    expect(tps.map((t) => [t.position, t.actorId, t.occurredAtMs])).toEqual([
      [7, 'anon~b2', Date.UTC(2026, 2, 1, 10, 3)],
      [6, 'L1', Date.UTC(2026, 2, 1, 10, 2, 0, 123)],
      [2, 'L1', Date.UTC(2026, 2, 1, 9, 1)],
      [1, 'L1', Date.UTC(2026, 2, 1, 10, 0)],
    ]);
    expect(tps[2]!.properties).toEqual({ formId: 'f', 'x.n': '2' });
    expect(tps[3]!.fields).toEqual({ source: 'ads', channel: '', campaign: '', accountId: '' });
  });

  it('flattens properties to text: nested keys joined by dots, JSON text for non-strings, null absent', () => {
    expect(flattenProperties({ a: 'x', b: 1.5, c: true, d: null, e: [1, 'y'], x: { u: { v: 'w' }, n: 0 } })).toEqual({ a: 'x', b: '1.5', c: 'true', e: '[1,"y"]', 'x.u.v': 'w', 'x.n': '0' });
  });
});

// ---------------------------------------------------------------------------
// The reference against the definition itself: enumerate every chain.

function bruteForce(tps: FunnelTouchpoint[], s: FunnelSpec): FunnelActorOutcome[] {
  const byActor = new Map<string, FunnelTouchpoint[]>();
  for (const t of tps) byActor.set(t.actorId, [...(byActor.get(t.actorId) ?? []), t]);
  const out: FunnelActorOutcome[] = [];
  for (const [actorId, events] of [...byActor].sort(([a], [b]) => (a < b ? -1 : 1))) {
    events.sort((a, b) => a.occurredAtMs - b.occurredAtMs || a.position - b.position);
    let best: { reached: number; anchor: number } | undefined;
    const consider = (chain: number[]) => {
      const anchor = Math.min(...chain);
      const t0 = events[anchor]!.occurredAtMs;
      if (t0 < s.fromMs || t0 >= s.toMs) return;
      if (chain.some((i) => events[i]!.occurredAtMs - t0 > s.windowMs)) return;
      const k = chain.length;
      if (s.order !== 'unordered') {
        for (let j = 1; j < k; j++) if (chain[j]! <= chain[j - 1]! || (s.order === 'strict' && chain[j] !== chain[j - 1]! + 1)) return;
        for (const ex of s.exclusions) {
          if (ex.beforeStep >= k) continue;
          for (let i = chain[ex.afterStep]! + 1; i < chain[ex.beforeStep]!; i++) if (matchesFunnelMatcher(events[i]!, ex)) return;
        }
      }
      if (!best || k > best.reached || (k === best.reached && anchor < best.anchor)) best = { reached: k, anchor };
    };
    // every injective assignment of steps 0..k-1 to events
    const extend = (chain: number[]) => {
      if (chain.length > 0) consider(chain);
      if (chain.length === s.steps.length) return;
      events.forEach((e, i) => {
        if (!chain.includes(i) && matchesFunnelMatcher(e, s.steps[chain.length]!)) extend([...chain, i]);
      });
    };
    extend([]);
    if (best) {
      const anchor = events[best.anchor]!;
      out.push({ actorId, reached: best.reached, breakdown: s.breakdown === undefined ? '' : valueOfKey(anchor, s.breakdown), enteredAtMs: anchor.occurredAtMs });
    }
  }
  return out;
}

// Few types, few actors and a coarse clock: chains compete, ties and exact
// window boundaries are common, and exclusion events show up between steps.
const TYPES = ['a', 'b'];
const matcherArb = fc.record({
  type: fc.constantFrom(...TYPES),
  where: fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('source', 'properties.k'), fc.subarray(['', 's1', 's2', 'p', 'q'], { minLength: 1 })).map(([key, values]) => [{ key, values }]) },
  ),
});

const specArb: fc.Arbitrary<FunnelSpec> = fc
  .record({
    steps: fc.array(matcherArb, { minLength: 1, maxLength: 4 }),
    order: fc.constantFrom<FunnelOrder>('ordered', 'strict', 'unordered'),
    windowMs: fc.constantFrom(0, 5, 10, 20, 40, 40),
    // a narrow date range leaves few anchors, so the chains of one anchor must compete
    fromMs: fc.constantFrom(0, 0, 5, 10),
    toMs: fc.constantFrom(5, 10, 10, 25, 100),
    exclusions: fc.array(fc.record({ type: fc.constantFrom('x', 'x', ...TYPES), where: matcherArb.map((m) => m.where), a: fc.nat(3), b: fc.nat(3) }), { maxLength: 3 }),
    breakdown: fc.constantFrom(undefined, 'source', 'properties.k'),
  })
  .map(({ exclusions, ...s }) => ({
    ...s,
    exclusions:
      s.order === 'unordered'
        ? []
        : exclusions.flatMap(({ type, where, a, b }) => {
            const afterStep = Math.min(a, b) % s.steps.length;
            const beforeStep = Math.max(a, b) % s.steps.length;
            return afterStep < beforeStep ? [{ type, where, afterStep, beforeStep }] : [];
          }),
  }));

/** Events whose types are mostly the funnel's own, so chains form and compete. */
const touchpointsArb = (types: readonly string[]) =>
  fc
    .array(
      fc.record({
        actor: fc.constantFrom('L1', 'L1', 'L1', 'anon~v'),
        t: fc.integer({ min: 0, max: 8 }),
        type: fc.constantFrom(...types, 'x'),
        source: fc.constantFrom('', 's1', 's2'),
        k: fc.option(fc.constantFrom('p', 'q'), { nil: undefined }),
      }),
      { minLength: 2, maxLength: 12, size: 'max' },
    )
    .map((rows) => rows.map((r, i) => tp(r.actor, r.t * 5, i + 1, r.type, r.source, r.k === undefined ? {} : { k: r.k })));

const caseArb = specArb.chain((s) => fc.tuple(fc.constant(s), touchpointsArb([...s.steps, ...s.exclusions].map((m) => m.type))));

describe('funnel reference, against chain enumeration', () => {
  it('agrees on every actor, every order mode, with exclusions and breakdowns', () => {
    fc.assert(
      fc.property(caseArb, ([s, tps]) => {
        expect(funnelOutcomes(tps, s)).toEqual(bruteForce(tps, s));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('funnel reference, exhaustively over small cases', () => {
  // Every history of up to 6 events over {a, b, x} against every funnel of up
  // to 3 steps over {a, b} with at most one exclusion (none when unordered):
  // competing chains (different exclusion flags, different step assignments)
  // are rare in random data.
  const histories: string[][] = [[]];
  for (let len = 1; len <= 6; len++) for (const h of histories.filter((x) => x.length === len - 1)) for (const t of ['a', 'b', 'x']) histories.push([...h, t]);
  const stepLists: string[][] = [['a'], ['b']];
  for (let len = 2; len <= 3; len++) for (const s of stepLists.filter((x) => x.length === len - 1)) for (const t of ['a', 'b']) stepLists.push([...s, t]);

  it.each(['ordered', 'strict', 'unordered'] as const)('%s', (order) => {
    let checked = 0;
    const mismatches: unknown[] = [];
    for (const steps of stepLists) {
      const exclusions: FunnelExclusion[][] = [[]];
      if (order !== 'unordered') for (let i = 0; i < steps.length; i++) for (let j = i + 1; j < steps.length; j++) for (const type of ['a', 'b', 'x']) exclusions.push([{ type, where: [], afterStep: i, beforeStep: j }]);
      for (const ex of exclusions) {
        const s = spec(steps.map((t) => step(t)), { order, windowMs: 4, fromMs: 0, toMs: 3, exclusions: ex });
        for (const h of histories) {
          const tps = h.map((type, i) => tp('L1', i, i + 1, type));
          const [got, want] = [funnelOutcomes(tps, s), bruteForce(tps, s)];
          if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push({ steps, exclusions: ex, history: h.join(''), got, want });
          checked++;
        }
      }
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
    expect(checked).toBeGreaterThan(order === 'unordered' ? 10_000 : 100_000);
  });
});
