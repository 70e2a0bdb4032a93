import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FunnelTouchpoint } from '@sluice/domain';
import { flattenProperties, touchpointsFromLog } from '@sluice/domain';
import type { FunnelActorOutcome, FunnelAttribution, FunnelExclusion, FunnelMatcher, FunnelOrder, FunnelSpec } from './reference.js';
import { attributionStep, breakdownKeys, breakdownText, countFunnel, funnelOptions, funnelOutcomes, funnelTimeToConvert, matchesFunnelMatcher, valueOfKey } from './reference.js';

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

describe('funnel options, by example (each default first, then the other choices)', () => {
  const abc = [step('a'), step('b'), step('c')];
  const withOptions = (base: FunnelSpec, options: FunnelSpec['options']): FunnelSpec => ({ ...base, options });
  const leadsPerStep = (tps: FunnelTouchpoint[], s: FunnelSpec) => countFunnel(tps, s).steps.map((x) => x.leads);

  it('windowAnchor: first_step measures every step from step 0, per_step from the previous step', () => {
    // a@0 b@8 c@16, window 10: c is 16 after a (out of first_step's window) but 8 after b (inside per_step's)
    const tps = [tp('L1', 0, 1, 'a'), tp('L1', 8, 2, 'b'), tp('L1', 16, 3, 'c')];
    expect(reachedBy(tps, spec(abc))).toEqual({ L1: 2 });
    expect(reachedBy(tps, withOptions(spec(abc), { windowAnchor: 'per_step' }))).toEqual({ L1: 3 });
    // per_step still needs each gap within the window: c 11 after b is out
    expect(reachedBy([tp('L1', 0, 1, 'a'), tp('L1', 8, 2, 'b'), tp('L1', 19, 3, 'c')], withOptions(spec(abc), { windowAnchor: 'per_step' }))).toEqual({ L1: 2 });
  });

  it('dateScope: first_step lets later steps run past the range, all_steps does not', () => {
    // range [0, 10), a@5 b@12: b is inside a's window (5 + 10) but after the range
    const tps = [tp('L1', 5, 1, 'a'), tp('L1', 12, 2, 'b')];
    const s = spec([step('a'), step('b')], { toMs: 10 });
    expect(reachedBy(tps, s)).toEqual({ L1: 2 });
    expect(reachedBy(tps, withOptions(s, { dateScope: 'all_steps' }))).toEqual({ L1: 1 });
  });

  it('exclusionEffect: drop_out keeps the steps before the exclusion, remove drops the attempt', () => {
    const s = spec(abc, { exclusions: [{ type: 'x', where: [], afterStep: 1, beforeStep: 2 }] });
    const tps = [
      // L1: x between b and c: drop_out stops it at b (2 steps); remove: gone
      ...[tp('L1', 0, 1, 'a'), tp('L1', 1, 2, 'b'), tp('L1', 2, 3, 'x'), tp('L1', 3, 4, 'c')],
      // L2: x after c closes nothing: 3 steps either way
      ...[tp('L2', 0, 5, 'a'), tp('L2', 1, 6, 'b'), tp('L2', 2, 7, 'c'), tp('L2', 3, 8, 'x')],
      // L3: x after b and no c within the window: drop_out 2 steps; remove: gone (the span stays open to the window's end)
      ...[tp('L3', 0, 9, 'a'), tp('L3', 1, 10, 'b'), tp('L3', 2, 11, 'x')],
    ];
    expect(leadsPerStep(tps, s)).toEqual([3, 3, 1]);
    expect(leadsPerStep(tps, withOptions(s, { exclusionEffect: 'remove' }))).toEqual([1, 1, 1]);
    expect(reachedBy(tps, withOptions(s, { exclusionEffect: 'remove' }))).toEqual({ L2: 3 });
  });

  it('ties: equal timestamps follow the log order under the options too', () => {
    // b@5 logged before a@5: no a -> b chain at 5, whatever the window anchor
    const tps = [tp('L1', 5, 2, 'a'), tp('L1', 5, 1, 'b')];
    expect(reachedBy(tps, withOptions(spec([step('a'), step('b')]), { windowAnchor: 'per_step' }))).toEqual({ L1: 1 });
    // funnel_order: at one instant the funnel's order wins: a (step 0) before b (step 1)
    expect(reachedBy(tps, withOptions(spec([step('a'), step('b')]), { ties: 'funnel_order' }))).toEqual({ L1: 2 });
  });

  it('tieGraceMs: times read at the grace\'s resolution, one slot being one instant', () => {
    const ab = spec([step('a'), step('b')]);
    // grace 10: b@11 (logged first) and a@12 share the slot [10, 20): one instant. log_order keeps b first (1 step), funnel_order a (2 steps)
    const sameSlot = [tp('L1', 11, 1, 'b'), tp('L1', 12, 2, 'a')];
    expect(reachedBy(sameSlot, withOptions(ab, { tieGraceMs: 10 }))).toEqual({ L1: 1 });
    expect(reachedBy(sameSlot, withOptions(ab, { tieGraceMs: 10, ties: 'funnel_order' }))).toEqual({ L1: 2 });
    // the slot's edge: b@19 and a@21 are 2 apart but in slots 10 and 20, so b stays before a
    expect(reachedBy([tp('L1', 19, 1, 'b'), tp('L1', 21, 2, 'a')], withOptions(ab, { tieGraceMs: 10, ties: 'funnel_order' }))).toEqual({ L1: 1 });
    // the window reads floored times too: a@11 b@28 are 17 apart (out of a 10 window) but read as 10 and 20 (in)
    const apart = [tp('L1', 11, 1, 'a'), tp('L1', 28, 2, 'b')];
    expect(reachedBy(apart, ab)).toEqual({ L1: 1 });
    expect(reachedBy(apart, withOptions(ab, { tieGraceMs: 10 }))).toEqual({ L1: 2 });
    // and so do the times reported: entered at 10
    expect(funnelOutcomes(apart, withOptions(ab, { tieGraceMs: 10 }))[0]!.enteredAtMs).toBe(10);
  });

  it('entry: best counts the attempt reaching furthest, first the first attempt', () => {
    // window 10: a@0 has no b by 10; a@20 -> b@25 reaches 2
    const tps = [tp('L1', 0, 1, 'a'), tp('L1', 20, 2, 'a'), tp('L1', 25, 3, 'b')];
    const s = spec([step('a'), step('b')]);
    expect(funnelOutcomes(tps, s)).toEqual([{ actorId: 'L1', reached: 2, breakdown: '', enteredAtMs: 20 }]);
    expect(funnelOutcomes(tps, withOptions(s, { entry: 'first' }))).toEqual([{ actorId: 'L1', reached: 1, breakdown: '', enteredAtMs: 0 }]);
  });

  it('reentry: false starts no attempt inside the previous one window; totals count every attempt', () => {
    // window 10: attempts a@0 (b@14 is 14 later: 1 step) and a@5 (b@14 is 9 later: 2 steps)
    const tps = [tp('L1', 0, 1, 'a'), tp('L1', 5, 2, 'a'), tp('L1', 14, 3, 'b')];
    const s = spec([step('a'), step('b')]);
    expect(reachedBy(tps, s)).toEqual({ L1: 2 });
    // a@5 is inside a@0's window (0 + 10): not an attempt, so only a@0's 1 step counts
    expect(reachedBy(tps, withOptions(s, { reentry: false }))).toEqual({ L1: 1 });
    // totals: two attempts, one reaching b -> [2, 1]; without re-entry one attempt -> [1, 0]
    expect(leadsPerStep(tps, withOptions(s, { unit: 'totals' }))).toEqual([2, 1]);
    expect(leadsPerStep(tps, withOptions(s, { unit: 'totals', reentry: false }))).toEqual([1, 0]);
    expect(funnelOutcomes(tps, withOptions(s, { unit: 'totals' })).map((o) => o.actorId)).toEqual(['L1~00000000000000000001', 'L1~00000000000000000002']);
  });

  it('unit: accounts convert when any of their leads does; a lead without an account counts as itself', () => {
    const inAccount = (t: FunnelTouchpoint, accountId: string): FunnelTouchpoint => ({ ...t, fields: { ...t.fields, accountId } });
    // L1 (account A) reaches 1, L2 (account A) reaches 2, L3 (no account) reaches 1
    const tps = [inAccount(tp('L1', 0, 1, 'a'), 'A'), inAccount(tp('L2', 3, 2, 'a'), 'A'), tp('L2', 4, 3, 'b'), tp('L3', 0, 4, 'a')];
    const s = spec([step('a'), step('b')]);
    // leads: 3 at step 0, L2 at step 1
    expect(leadsPerStep(tps, s)).toEqual([3, 1]);
    // accounts: account A (as far as L2, entered when L2 did) and L3
    expect(leadsPerStep(tps, withOptions(s, { unit: 'accounts' }))).toEqual([2, 1]);
    expect(funnelOutcomes(tps, withOptions(s, { unit: 'accounts' }))).toEqual([
      { actorId: 'L3', reached: 1, breakdown: '', enteredAtMs: 0 },
      { actorId: 'account~A', reached: 2, breakdown: '', enteredAtMs: 3 },
    ]);
  });

  it('holdConstant: every step of a chain carries the anchor\'s value', () => {
    const deal = (t: FunnelTouchpoint, dealId: string): FunnelTouchpoint => ({ ...t, properties: { dealId } });
    // L1: a for deal d1, b for d2, b for d1: held on the deal, a(d1) -> b(d1) still makes 2 steps
    // L2: a for d1, b for d2 only: 2 steps without holding, 1 when the deal must match
    const tps = [deal(tp('L1', 0, 1, 'a'), 'd1'), deal(tp('L1', 1, 2, 'b'), 'd2'), deal(tp('L1', 2, 3, 'b'), 'd1'), deal(tp('L2', 0, 4, 'a'), 'd1'), deal(tp('L2', 1, 5, 'b'), 'd2')];
    const s = spec([step('a'), step('b')]);
    expect(leadsPerStep(tps, s)).toEqual([2, 2]);
    expect(leadsPerStep(tps, { ...s, holdConstant: ['properties.dealId'] })).toEqual([2, 1]);
  });

  it('attribution: first_touch reads step 0, last_touch the furthest step, step:N that step (none when not reached)', () => {
    // L1: a s1, b s2, c s3 (3 steps); L2: a s1, b s2 (2 steps)
    const tps = [tp('L1', 0, 1, 'a', 's1'), tp('L1', 1, 2, 'b', 's2'), tp('L1', 2, 3, 'c', 's3'), tp('L2', 0, 4, 'a', 's1'), tp('L2', 1, 5, 'b', 's2')];
    const valueBy = (attribution: FunnelAttribution) =>
      Object.fromEntries(funnelOutcomes(tps, withOptions(spec(abc, { breakdown: 'source' }), { attribution })).map((o) => [o.actorId, o.breakdown]));
    expect(valueBy('first_touch')).toEqual({ L1: 's1', L2: 's1' });
    expect(valueBy('last_touch')).toEqual({ L1: 's3', L2: 's2' });
    expect(valueBy('step:1')).toEqual({ L1: 's2', L2: 's2' });
    expect(valueBy('step:2')).toEqual({ L1: 's3', L2: '' });
  });

  it('breaks down by several keys at once: a group per combination of values on the counted event', () => {
    // L1: a from s1 with k=p; L2: a from s1 with k=q; L3: a from s1 with k=p -> groups ["s1","p"] (2) and ["s1","q"] (1)
    const tps = [tp('L1', 0, 1, 'a', 's1', { k: 'p' }), tp('L2', 0, 2, 'a', 's1', { k: 'q' }), tp('L3', 0, 3, 'a', 's1', { k: 'p' })];
    const counts = countFunnel(tps, spec([step('a')], { breakdown: ['source', 'properties.k'] }));
    expect(counts.breakdown.map((g) => [g.value, g.steps[0]!.leads])).toEqual([
      ['["s1","p"]', 2],
      ['["s1","q"]', 1],
    ]);
  });

  it('timeToConvert: from first reaching one step to first reaching the next, and overall', () => {
    // window 10: L1 a@0 b@4 c@9; L2 a@0 b@2 (no c); L3 a@0 a@1 b@7: b is first reached at 7 (from the anchor at 0)
    const tps = [tp('L1', 0, 1, 'a'), tp('L1', 4, 2, 'b'), tp('L1', 9, 3, 'c'), tp('L2', 0, 4, 'a'), tp('L2', 2, 5, 'b'), tp('L3', 0, 6, 'a'), tp('L3', 1, 7, 'a'), tp('L3', 7, 8, 'b')];
    const s = { ...spec(abc), timeToConvert: true };
    const outcomes = funnelOutcomes(tps, s);
    expect(outcomes.map((o) => o.reachedAtMs)).toEqual([[0, 4, 9], [0, 2], [0, 7]]);
    const stats = funnelTimeToConvert(outcomes, s).pairs.map((p) => [p.fromStep, p.toStep, p.total.entered, p.total.converted, p.total.meanMs, p.total.medianMs, p.total.p90Ms]);
    // a -> b: 4, 2, 7 ms: mean 13/3, median 4, p90 4 + 0.8 * (7 - 4) = 6.4; b -> c: 5 of three; a -> c: 9 of three
    expect(stats).toEqual([
      [0, 1, 3, 3, 13 / 3, 4, expect.closeTo(6.4, 9)],
      [1, 2, 3, 1, 5, 5, 5],
      [0, 2, 3, 1, 9, 9, 9],
    ]);
  });

  it('attribution: all_values counts a lead under every value its attempts start with; groups overlap', () => {
    // window 10: a from s1 at 0 (no b by 10: 1 step), a from s2 at 20 -> b at 25 (2 steps)
    const tps = [tp('L1', 0, 1, 'a', 's1'), tp('L1', 20, 2, 'a', 's2'), tp('L1', 25, 3, 'b')];
    const s = spec([step('a'), step('b')], { breakdown: 'source' });
    const groups = (c: ReturnType<typeof countFunnel>) => c.breakdown.map((g) => [g.value, g.steps.map((x) => x.leads)]);
    // first touch: only the counted attempt's value (s2)
    expect(groups(countFunnel(tps, s))).toEqual([['s2', [1, 1]]]);
    // all values: s1 as far as step 0, s2 through step 1; the totals still count L1 once
    const all = countFunnel(tps, withOptions(s, { attribution: 'all_values' }));
    expect(groups(all)).toEqual([
      ['s1', [1, 0]],
      ['s2', [1, 1]],
    ]);
    expect(all.steps.map((x) => x.leads)).toEqual([1, 1]);
  });
});

describe('optional steps, by example', () => {
  // a -> b (optional) -> c, window 10
  const abc = [step('a'), { ...step('b'), optional: true }, step('c')];
  const outcomesBy = (tps: FunnelTouchpoint[], s: FunnelSpec) => Object.fromEntries(funnelOutcomes(tps, s).map((o) => [o.actorId, [o.reached, o.skipped]]));

  it('a chain may skip an optional step; the step counts those who took it, and rates run from the previous required step', () => {
    const tps = [
      ...[tp('L1', 0, 1, 'a'), tp('L1', 1, 2, 'b'), tp('L1', 2, 3, 'c')], // every step
      ...[tp('L2', 0, 4, 'a'), tp('L2', 2, 5, 'c')], // skips b: still reaches c
      ...[tp('L3', 0, 6, 'a'), tp('L3', 1, 7, 'b')], // b, no c
      tp('L4', 0, 8, 'a'),
    ];
    expect(outcomesBy(tps, spec(abc))).toEqual({ L1: [3, []], L2: [3, [1]], L3: [2, []], L4: [1, []] });
    // a: 4; b: L1 and L3; c: L1 and L2. b and c both measured from a: 2 of 4, 2 dropped
    const steps = countFunnel(tps, spec(abc)).steps;
    expect(steps.map((x) => [x.leads, x.conversionFromPrevious, x.droppedFromPrevious])).toEqual([
      [4, 1, 0],
      [2, 0.5, 2],
      [2, 0.5, 2],
    ]);
    // with b required, L2 stops at a: [4, 2, 1]
    expect(countFunnel(tps, spec(abc.map(({ type, where }) => step(type, where)))).steps.map((x) => x.leads)).toEqual([4, 2, 1]);
  });

  it('strict: skipping an optional step still needs the next taken step to be the very next event', () => {
    // L1 a, c: c is next after a (b skipped). L2 a, x, c: x breaks the chain at a
    const tps = [tp('L1', 0, 1, 'a'), tp('L1', 1, 2, 'c'), tp('L2', 0, 3, 'a'), tp('L2', 1, 4, 'x'), tp('L2', 2, 5, 'c')];
    expect(outcomesBy(tps, spec(abc, { order: 'strict' }))).toEqual({ L1: [3, [1]], L2: [1, []] });
  });

  it('exclusionEffect remove: the optional steps counted are those an untouched chain reaching the furthest step took', () => {
    // x excluded between a and c. a@0 c@1 b@2 x@3 c@4:
    //   a, c@1: reaches c, skips b, untouched (x comes after c);
    //   a, b@2, c@4: x@3 lies between a and c, so this chain cannot take c; a, b@2 stops at b, and x@3 touches it.
    const s = spec(abc, { exclusions: [{ type: 'x', where: [], afterStep: 0, beforeStep: 2 }] });
    const tps = [tp('L1', 0, 1, 'a'), tp('L1', 1, 2, 'c'), tp('L1', 2, 3, 'b'), tp('L1', 3, 4, 'x'), tp('L1', 4, 5, 'c')];
    // drop_out: every chain counts, so b counts (a, b@2): [1, 1, 1]; remove: only the untouched a, c@1, which skipped b: [1, 0, 1]
    expect(outcomesBy(tps, s)).toEqual({ L1: [3, []] });
    expect(countFunnel(tps, s).steps.map((x) => x.leads)).toEqual([1, 1, 1]);
    const removed = { ...s, options: { exclusionEffect: 'remove' as const } };
    expect(outcomesBy(tps, removed)).toEqual({ L1: [3, [1]] });
    expect(countFunnel(tps, removed).steps.map((x) => x.leads)).toEqual([1, 0, 1]);
  });

  it('timeToConvert: each step from the previous required step, a skipped step has no time', () => {
    // L1 a@0 b@1 c@2; L2 a@0 c@5 (skips b)
    const tps = [tp('L1', 0, 1, 'a'), tp('L1', 1, 2, 'b'), tp('L1', 2, 3, 'c'), tp('L2', 0, 4, 'a'), tp('L2', 5, 5, 'c')];
    const s = { ...spec(abc), timeToConvert: true };
    const outcomes = funnelOutcomes(tps, s);
    expect(outcomes.map((o) => o.reachedAtMs)).toEqual([
      [0, 1, 2],
      [0, null, 5],
    ]);
    // a -> b: 1 of 2 (1 ms); a -> c: 2 of 2 (2 and 5 ms: mean 3.5); a -> c is already a pair, so no overall pair is added
    const stats = funnelTimeToConvert(outcomes, s).pairs.map((p) => [p.fromStep, p.toStep, p.total.entered, p.total.converted, p.total.meanMs]);
    expect(stats).toEqual([
      [0, 1, 2, 1, 1],
      [0, 2, 2, 2, 3.5],
    ]);
  });

  it('all_values: a value counts at an optional step when any attempt with it took the step', () => {
    // L1: a(s1)@0 c@2 skips b; a(s1)@20 b@21 (no c): under s1 the unit reaches c (first attempt) and b (second)
    const tps = [tp('L1', 0, 1, 'a', 's1'), tp('L1', 2, 2, 'c'), tp('L1', 20, 3, 'a', 's1'), tp('L1', 21, 4, 'b')];
    const s = spec(abc, { breakdown: 'source', options: { attribution: 'all_values' } });
    expect(funnelOutcomes(tps, s)[0]!.values).toEqual([{ value: 's1', reached: 3, skipped: [] }]);
    // the totals count the counted attempt (a@0 c@2, which skipped b): [1, 0, 1]; the s1 group counts b too
    const counts = countFunnel(tps, s);
    expect(counts.steps.map((x) => x.leads)).toEqual([1, 0, 1]);
    expect(counts.breakdown.map((g) => [g.value, g.steps.map((x) => x.leads)])).toEqual([['s1', [1, 1, 1]]]);
  });

  it('refuses what would make "between" or "the step-N event" ambiguous', () => {
    const bad = (more: Partial<FunnelSpec>, steps: FunnelSpec['steps'] = abc) => () => funnelOutcomes([], spec([...steps], more));
    expect(bad({}, [{ ...step('a'), optional: true }, step('b')])).toThrow(/step 0 cannot be optional/);
    expect(bad({ order: 'unordered' })).toThrow(/optional steps need an ordered or strict funnel/);
    expect(bad({ exclusions: [{ type: 'x', where: [], afterStep: 1, beforeStep: 2 }] })).toThrow(/between required steps/);
    expect(bad({ options: { attribution: 'step:1' } })).toThrow(/step:N attribution needs a required step/);
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

  it('leaves out events about no person (spend, opportunities): no funnel step can name them', () => {
    const log = [
      { position: 1, type: 'visit', data: { occurredAt: '2026-03-01T10:00:00Z', anonymousId: 'b1' } },
      { position: 2, type: 'opportunity_created', data: { occurredAt: '2026-03-01T11:00:00Z', accountId: 'A1', properties: { opportunityId: 'o1' } } },
      { position: 3, type: 'spend', data: { occurredAt: '2026-03-01T12:00:00Z', source: 'ads', properties: { amount: 10, currency: 'EUR' } } },
    ];
    expect(touchpointsFromLog(log).map((t) => [t.position, t.actorId])).toEqual([[1, 'anon~b1']]);
  });

  it('flattens properties to text: nested keys joined by dots, JSON text for non-strings, null absent', () => {
    expect(flattenProperties({ a: 'x', b: 1.5, c: true, d: null, e: [1, 'y'], x: { u: { v: 'w' }, n: 0 } })).toEqual({ a: 'x', b: '1.5', c: 'true', e: '[1,"y"]', 'x.u.v': 'w', 'x.n': '0' });
  });
});

// ---------------------------------------------------------------------------
// The reference against the definition itself: enumerate every chain.

function bruteForce(tps: FunnelTouchpoint[], s: FunnelSpec): FunnelActorOutcome[] {
  const o = funnelOptions(s);
  const nth = attributionStep(o.attribution);
  const keys = breakdownKeys(s);
  const hasOptional = s.steps.some((x) => x.optional);
  const byActor = new Map<string, FunnelTouchpoint[]>();
  // time read at the grace's resolution: floored to its slot
  const slot = (ms: number) => (o.tieGraceMs > 0 ? Math.floor(ms / o.tieGraceMs) * o.tieGraceMs : ms);
  for (const t of tps) byActor.set(t.actorId, [...(byActor.get(t.actorId) ?? []), { ...t, occurredAtMs: slot(t.occurredAtMs) }]);
  // funnel_order: at one instant, by the first step an event matches (none: last)
  const rank = (t: FunnelTouchpoint) => (o.ties === 'log_order' ? 0 : ((k) => (k < 0 ? s.steps.length : k))(s.steps.findIndex((m) => matchesFunnelMatcher(t, m))));
  const out: FunnelActorOutcome[] = [];
  // a chain: [step, event index] pairs, steps increasing (unordered: 0, 1, 2, ... in any event order)
  type Chain = Array<[number, number]>;
  for (const [actorId, events] of [...byActor].sort(([a], [b]) => (a < b ? -1 : 1))) {
    events.sort((a, b) => a.occurredAtMs - b.occurredAtMs || rank(a) - rank(b) || a.position - b.position);
    const at = (i: number) => events[i]!.occurredAtMs;
    const held = (i: number) => JSON.stringify((s.holdConstant ?? []).map((k) => valueOfKey(events[i]!, k)));
    const eventAt = (chain: Chain, step: number) => chain.find(([k]) => k === step)?.[1];
    const reachOf = (chain: Chain) => chain[chain.length - 1]![0] + 1;
    // valid chains by anchor (their earliest event), exclusions checked between the steps they reach
    const chainsByAnchor = new Map<number, Chain[]>();
    const consider = (chain: Chain) => {
      const ix = chain.map(([, i]) => i);
      const anchor = Math.min(...ix);
      const t0 = at(anchor);
      if (t0 < s.fromMs || t0 >= s.toMs) return;
      if (o.dateScope === 'all_steps' && ix.some((i) => at(i) >= s.toMs)) return;
      if (ix.some((i) => held(i) !== held(anchor))) return;
      if (o.windowAnchor === 'per_step' ? ix.some((i, j) => j > 0 && at(i) - at(ix[j - 1]!) > s.windowMs) : ix.some((i) => at(i) - t0 > s.windowMs)) return;
      const k = reachOf(chain);
      if (s.order !== 'unordered') {
        for (let j = 1; j < ix.length; j++) if (ix[j]! <= ix[j - 1]! || (s.order === 'strict' && ix[j] !== ix[j - 1]! + 1)) return;
        for (const ex of s.exclusions) {
          if (ex.beforeStep >= k) continue;
          for (let i = eventAt(chain, ex.afterStep)! + 1; i < eventAt(chain, ex.beforeStep)!; i++) if (matchesFunnelMatcher(events[i]!, ex)) return;
        }
      }
      chainsByAnchor.set(anchor, [...(chainsByAnchor.get(anchor) ?? []), chain]);
    };
    // remove: no exclusion event after the step-i event of a span still open at the chain's end, up to the end of its window
    const untouched = (chain: Chain, anchor: number) => {
      const k = reachOf(chain);
      const windowEnd = o.windowAnchor === 'per_step' ? at(chain[chain.length - 1]![1]) + s.windowMs : at(anchor) + s.windowMs;
      const end = o.dateScope === 'all_steps' ? Math.min(windowEnd, s.toMs - 1) : windowEnd;
      return s.exclusions.every((ex) => !(ex.afterStep < k && k <= ex.beforeStep) || !events.some((e, i) => i > eventAt(chain, ex.afterStep)! && at(i) <= end && matchesFunnelMatcher(e, ex)));
    };
    // every injective assignment of events to steps: step 0 first, then the next step or a later one past optional steps
    const extend = (chain: Chain) => {
      if (chain.length > 0) consider(chain);
      const next = chain.length === 0 ? 0 : reachOf(chain);
      for (let c = next; c < s.steps.length; c++) {
        events.forEach((e, i) => {
          if (!chain.some(([, j]) => j === i) && matchesFunnelMatcher(e, s.steps[c]!)) extend([...chain, [c, i]]);
        });
        if (s.order === 'unordered' || !s.steps[c]!.optional || chain.length === 0) break;
      }
    };
    extend([]);
    // per attempt: its furthest chains (clean ones under `remove`), the earliest attribution event among them; the furthest attempt counts, the earliest among equals
    let best: { reached: number; anchor: number; attr: number; steps: Set<number> } | undefined;
    for (const [anchor, chains] of [...chainsByAnchor].sort(([a], [b]) => a - b)) {
      const reached = Math.max(...chains.map(reachOf));
      const furthest = chains.filter((c) => reachOf(c) === reached && (o.exclusionEffect === 'drop_out' || untouched(c, anchor)));
      if (furthest.length === 0) continue;
      const attr = Math.min(...furthest.map((c) => (o.attribution === 'last_touch' ? c[c.length - 1]![1] : nth === undefined ? anchor : reached > nth ? eventAt(c, nth)! : -1)));
      // the steps it counts at: any chain's (under `remove`: any clean furthest chain's)
      const steps = new Set((o.exclusionEffect === 'drop_out' ? chains : furthest).flatMap((c) => c.map(([k]) => k)));
      if (!best || reached > best.reached) best = { reached, anchor, attr, steps };
    }
    if (best) {
      const source = best.attr;
      const breakdown = keys === undefined ? '' : breakdownText(s, keys.map((k) => (source < 0 ? '' : valueOfKey(events[source]!, k))));
      const { steps } = best;
      const skipped = s.steps.flatMap((_, k) => (k < best.reached && !steps.has(k) ? [k] : []));
      out.push({ actorId, reached: best.reached, breakdown, enteredAtMs: at(best.anchor), ...(hasOptional ? { skipped } : {}) });
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
    steps: fc.array(fc.record({ matcher: matcherArb, optional: fc.boolean() }), { minLength: 1, maxLength: 4 }),
    order: fc.constantFrom<FunnelOrder>('ordered', 'strict', 'unordered'),
    windowMs: fc.constantFrom(0, 5, 10, 20, 40, 40),
    // a narrow date range leaves few anchors, so the chains of one anchor must compete
    fromMs: fc.constantFrom(0, 0, 5, 10),
    toMs: fc.constantFrom(5, 10, 10, 25, 100),
    exclusions: fc.array(fc.record({ type: fc.constantFrom('x', 'x', ...TYPES), where: matcherArb.map((m) => m.where), a: fc.nat(3), b: fc.nat(3) }), { maxLength: 3 }),
    breakdown: fc.constantFrom<FunnelSpec['breakdown']>(undefined, 'source', 'properties.k', ['source', 'properties.k']),
    holdConstant: fc.constantFrom<string[]>([], [], ['properties.k']),
    options: fc.record({
      windowAnchor: fc.constantFrom('first_step', 'per_step'),
      ties: fc.constantFrom('log_order', 'funnel_order'),
      // events are 5 apart: a grace of 10 puts pairs in one slot, 15 triples (slots from 0, so 5 and 10 land in different ones)
      tieGraceMs: fc.constantFrom(0, 0, 10, 15),
      dateScope: fc.constantFrom('first_step', 'all_steps'),
      exclusionEffect: fc.constantFrom('drop_out', 'remove'),
      attribution: fc.constantFrom<FunnelAttribution>('first_touch', 'last_touch', 'step:0', 'step:1'),
    }),
  })
  .map(({ exclusions, options, steps: drawn, ...rest }) => {
    // optional steps need an order, and step 0 is never optional
    const steps: FunnelSpec['steps'] = drawn.map(({ matcher, optional }, k) => (optional && k > 0 && rest.order !== 'unordered' ? { ...matcher, optional } : matcher));
    const required = (k: number) => !steps[k]!.optional;
    return {
      ...rest,
      steps,
      // per_step and last_touch / step:N need an order; step:1 a second, required step
      options: {
        ...options,
        ...(options.attribution === 'step:1' && !(steps.length >= 2 && required(1)) ? { attribution: 'step:0' as const } : {}),
        ...(rest.order === 'unordered' ? { windowAnchor: 'first_step' as const, attribution: 'first_touch' as const } : {}),
      },
      // exclusions run between required steps
      exclusions:
        rest.order === 'unordered'
          ? []
          : exclusions.flatMap(({ type, where, a, b }) => {
              const afterStep = Math.min(a, b) % steps.length;
              const beforeStep = Math.max(a, b) % steps.length;
              return afterStep < beforeStep && required(afterStep) && required(beforeStep) ? [{ type, where, afterStep, beforeStep }] : [];
            }),
    };
  });

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
  it('agrees on every actor, every order mode, with optional steps, exclusions, breakdowns, held keys and the per-attempt options', () => {
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
