import fc from 'fast-check';
import type { FunnelActorOutcome } from './queries/funnel/reference.js';
import { touchpointsFromLog } from '@sluice/domain';
import { countFunnel, funnelOutcomes, funnelTimeToConvert } from './queries/funnel/reference.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import type { FunnelDefinitionInput } from './funnel-definition.js';
import { FunnelDefinitionSchema, funnelSpecOf } from './funnel-definition.js';
import { listFunnelLeads, runFunnel } from './funnel.js';
import { applyTouchpointBatch } from './sink.js';
import { testBackends } from './test-backends.js';
import type { LogLine } from './test-log.js';
import { recordedLog } from './test-log.js';

/*
 * ClickHouse against the reference, on generated funnels and logs.
 *
 * A fast-check run is one funnel definition over LOGS_PER_RUN independent
 * logs: each log has its own actors (an id prefix), so funnels count them
 * independently, and all share one region of time so the date range and the
 * window hit every log. A run is one insert and two queries (the per-lead
 * outcomes and the counts), compared with the reference over the same events.
 * Regions are a day apart and windows a few seconds, so the tables are never
 * emptied between runs. On a mismatch fast-check shrinks the definition and
 * the logs, re-inserting into fresh regions.
 *
 * The generators aim at the edges: four actors per log, a one-second clock
 * over nine ticks (ties are common), windows of a few seconds (a step exactly
 * at the end of the window is common), anonymous visitors linked to leads
 * (sometimes to two: the first link wins), an exclusion type that interleaves
 * with the steps.
 */

const STEP_TYPES = ['visit', 'form_submit', 'email_open'] as const;
const REGION_MS = 86_400_000;
const BASE_MS = Date.UTC(2026, 0, 1);
const LOGS_PER_RUN = 16;

type Order = 'ordered' | 'strict' | 'unordered';
type Options = Pick<FunnelDefinitionInput, 'windowAnchor' | 'dateScope' | 'exclusionEffect' | 'entry' | 'reentry' | 'unit' | 'attribution'>;
const UNITS = ['leads', 'accounts', 'accounts_pooled', 'totals'] as const;
type Unit = (typeof UNITS)[number];

/**
 * Every combination of the counting options an order allows (per_step,
 * last_touch and step:N need an order; exclusions, and so their effect, too)
 * for one unit. Each combination is one run: ordered and strict 128 runs,
 * unordered 16, x 4 units x 16 logs = 17,408 cases per backend.
 */
function optionCombinations(order: Order, unit: Unit): Options[] {
  const ordered = order !== 'unordered';
  const out: Options[] = [];
  for (const windowAnchor of ordered ? (['first_step', 'per_step'] as const) : (['first_step'] as const))
    for (const dateScope of ['first_step', 'all_steps'] as const)
      for (const exclusionEffect of ordered ? (['drop_out', 'remove'] as const) : (['drop_out'] as const))
        for (const entry of ['best', 'first'] as const)
          for (const reentry of [true, false])
            for (const attribution of ordered ? ['first_touch', 'last_touch', 'step:1', 'all_values'] : ['first_touch', 'all_values']) out.push({ windowAnchor, dateScope, exclusionEffect, entry, reentry, unit, attribution });
  return out;
}

const who = fc.constantFrom<Pick<LogLine, 'lead' | 'anon'>>(
  { lead: 'L1' },
  { lead: 'L2' },
  { anon: 'b1' },
  { anon: 'b1' },
  { anon: 'b2' },
  { anon: 'b1', lead: 'L1' },
  { anon: 'b1', lead: 'L2' },
  { anon: 'b2', lead: 'L2' },
);

const lineArb = fc.record({
  who,
  tick: fc.integer({ min: 0, max: 8 }),
  type: fc.constantFrom(...STEP_TYPES, 'unsubscribe'),
  source: fc.constantFrom(undefined, 'ads', 'seo'),
  tier: fc.constantFrom(undefined, 'p', 'q'),
  account: fc.constantFrom(undefined, undefined, 'A1', 'A2'),
});

const condition = fc.oneof(
  fc.record({ key: fc.constant('source'), op: fc.constant('eq' as const), value: fc.constantFrom('ads', 'seo', '') }),
  fc.record({ key: fc.constant('properties.x.tier'), op: fc.constant('in' as const), values: fc.subarray(['p', 'q', ''], { minLength: 1 }) }),
);
const matcher = fc.record({ type: fc.constantFrom(...STEP_TYPES), where: fc.array(condition, { maxLength: 2 }) });

const runArb = (order: Order, options: Options) =>
  fc
    .record({
      logs: fc.array(fc.array(lineArb, { minLength: 1, maxLength: 14 }), { minLength: LOGS_PER_RUN, maxLength: LOGS_PER_RUN }),
      steps: fc.array(fc.record({ matcher, optional: fc.boolean() }), { minLength: 1, maxLength: 4 }),
      windowSeconds: fc.constantFrom(1, 1, 2, 3, 5, 8),
      fromTick: fc.integer({ min: 0, max: 3 }),
      toTick: fc.integer({ min: 1, max: 9 }),
      exclusions: fc.array(fc.record({ type: fc.constantFrom('unsubscribe', 'unsubscribe', ...STEP_TYPES), a: fc.nat(3), b: fc.nat(3) }), { maxLength: order === 'unordered' ? 0 : 2 }),
      breakdown: fc.constantFrom<string | string[] | undefined>(undefined, 'source', 'properties.x.tier', ['source', 'properties.x.tier']),
      holdConstant: fc.constantFrom([], [], ['properties.x.tier'], ['source', 'properties.x.tier']),
      timeToConvert: fc.boolean(),
      // a one-second clock: a 2-second grace puts pairs of ticks in one slot, 3 triples (slots from the epoch, so the range's edges cut them)
      ties: fc.constantFrom('log_order' as const, 'funnel_order' as const),
      tieGraceSeconds: fc.constantFrom(0, 0, 2, 3),
    })
    .map((c) => {
      // optional steps need an order, step 0 is never optional, and step:1 attribution needs step 1 required
      const steps = c.steps.map(({ matcher: m, optional }, k) => ({ ...m, optional: optional && k > 0 && order !== 'unordered' && !(k === 1 && options.attribution === 'step:1') }));
      return {
        ...c,
        steps,
        toTick: Math.max(c.toTick, c.fromTick + 1),
        // exclusions run between required steps
        exclusions: c.exclusions.flatMap(({ type, a, b }) => {
          const afterStep = Math.min(a, b) % steps.length;
          const beforeStep = Math.max(a, b) % steps.length;
          return afterStep < beforeStep && !steps[afterStep]!.optional && !steps[beforeStep]!.optional ? [{ type, afterStep, beforeStep }] : [];
        }),
        order,
        options,
      };
    })
    // step:1 attribution needs a second step
    .filter((c) => c.options.attribution !== 'step:1' || c.steps.length > 1);

type Run = ReturnType<typeof runArb> extends fc.Arbitrary<infer T> ? T : never;

let nextRegion = 0;
let nextPosition = 1;

/** A run placed in a fresh region: every log with its own ids, unique positions, and the definition. */
function place(run: Run) {
  const region = nextRegion++;
  const base = BASE_MS + region * REGION_MS;
  const log = run.logs.flatMap((lines, c) => {
    const id = (x: string) => `r${region}c${c}${x}`;
    const events = recordedLog(
      lines.map((l) => ({
        type: l.type,
        at: base + l.tick * 1000,
        ...(l.who.lead === undefined ? {} : { lead: id(l.who.lead) }),
        ...(l.who.anon === undefined ? {} : { anon: id(l.who.anon) }),
        ...(l.source === undefined ? {} : { source: l.source }),
        ...(l.account === undefined ? {} : { accountId: id(l.account) }),
        properties: l.tier === undefined ? { formId: 'f' } : { formId: 'f', x: { tier: l.tier } },
      })),
      nextPosition,
      id('-'),
    );
    nextPosition += events.length;
    return events;
  });
  const input: FunnelDefinitionInput = {
    steps: run.steps,
    order: run.order,
    window: { value: run.windowSeconds, unit: 'seconds' },
    dateRange: { from: new Date(base + run.fromTick * 1000).toISOString(), to: new Date(base + run.toTick * 1000).toISOString() },
    exclusions: run.exclusions,
    ...(run.breakdown === undefined ? {} : { breakdown: run.breakdown }),
    holdConstant: [...run.holdConstant],
    timeToConvert: run.timeToConvert,
    ties: run.ties,
    tieGraceSeconds: run.tieGraceSeconds,
    ...run.options,
  };
  return { log, definition: FunnelDefinitionSchema.parse(input), input };
}

const outcomeOf = (l: Awaited<ReturnType<typeof listFunnelLeads>>['leads'][number]): FunnelActorOutcome => ({
  actorId: l.unitId,
  reached: l.reachedSteps,
  breakdown: l.breakdownValue,
  enteredAtMs: Date.parse(l.enteredAt),
  ...(l.skippedSteps === undefined ? {} : { skipped: l.skippedSteps }),
  ...(l.reachedAt === undefined ? {} : { reachedAtMs: l.reachedAt.map((t) => (t === null ? null : Date.parse(t))) }),
  ...(l.values === undefined ? {} : { values: l.values.map((v) => ({ value: v.value, reached: v.reachedSteps, ...(v.skippedSteps === undefined ? {} : { skipped: v.skippedSteps }) })) }),
});

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`funnels against the reference (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
      await backend.reset(client);
    });
    afterAll(() => backend.close());

    // one test per order and unit: each stays well inside its time bound on a loaded machine
    const cells = (['ordered', 'strict', 'unordered'] as const).flatMap((order) => UNITS.map((unit) => [order, unit] as const));
    it.each(cells)('%s by %s, every combination of the options', async (order, unit) => {
      let cases = 0;
      const combinations = optionCombinations(order, unit);
      for (const options of combinations) {
        await fc.assert(
          fc.asyncProperty(runArb(order, options), async (run) => {
            const { log, definition, input } = place(run);
            await applyTouchpointBatch(client, log);
            const spec = funnelSpecOf(definition);
            const touchpoints = touchpointsFromLog(log);
            const where = JSON.stringify(input);
            const leads = await listFunnelLeads(client, definition, { stepIndex: 0, limit: 10_000 });
            expect(leads.leads.map(outcomeOf), where).toEqual(funnelOutcomes(touchpoints, spec));
            const counts = await runFunnel(client, definition, { breakdownLimit: 1000 });
            const reference = countFunnel(touchpoints, spec);
            expect(counts.steps.map(({ type: _t, optional: _o, ...s }) => s), where).toEqual(reference.steps);
            expect(counts.steps.map((s) => s.optional === true), where).toEqual(definition.steps.map((s) => s.optional));
            expect(counts.breakdown?.groups ?? [], where).toEqual(reference.breakdown);
            expect(counts.timeToConvert, where).toEqual(run.timeToConvert ? funnelTimeToConvert(funnelOutcomes(touchpoints, spec), spec) : undefined);
            cases += run.logs.length;
          }),
          { numRuns: 1 },
        );
      }
      expect(cases).toBe(combinations.length * LOGS_PER_RUN);
    }, 600_000);
  });
}
