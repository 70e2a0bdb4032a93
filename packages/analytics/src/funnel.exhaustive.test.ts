import type { FunnelActorOutcome } from './queries/funnel/reference.js';
import { ANONYMOUS_ACTOR_PREFIX, touchpointsFromLog } from '@sluice/domain';
import { funnelOutcomes } from './queries/funnel/reference.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import type { FunnelDefinitionInput } from './funnel-definition.js';
import { FunnelDefinitionSchema, funnelSpecOf } from './funnel-definition.js';
import { listFunnelLeads } from './funnel.js';
import { applyTouchpointBatch } from './sink.js';
import { testBackends } from './test-backends.js';
import { recordedLog } from './test-log.js';

/*
 * ClickHouse against the reference over EVERY history of up to 6 events of
 * three types (one lead each, one second apart), for every funnel of up to 3
 * steps over two types with at most one exclusion (ordered and strict: with
 * the middle of three steps required and optional). Random logs rarely make
 * chains compete (two partial chains with different exclusion flags, two
 * assignments of an unordered step), which is where a fold that keeps the
 * wrong state goes wrong; here every such shape occurs, under the options
 * that add to a state (exclusions that remove, a window per step, the event
 * a breakdown is read from). All histories go in with one insert; each
 * funnel is one query over all of them.
 */

const LETTERS = { a: 'visit', b: 'form_submit', x: 'unsubscribe' } as const;
type Letter = keyof typeof LETTERS;
const T0 = Date.UTC(2026, 4, 1);

const histories: Letter[][] = [[]];
for (let len = 1; len <= 6; len++) for (const h of histories.filter((x) => x.length === len - 1)) for (const t of ['a', 'b', 'x'] as const) histories.push([...h, t]);
const log = recordedLog(
  histories.flatMap((h, i) => h.map((letter, k) => ({ type: LETTERS[letter], at: T0 + k * 1000, lead: `h${i}`, properties: { formId: 'f', k: String(k) } }))),
  1,
  'ex-',
);
const touchpoints = touchpointsFromLog(log);

const stepLists: Letter[][] = [['a'], ['b']];
for (let len = 2; len <= 3; len++) for (const s of stepLists.filter((x) => x.length === len - 1)) for (const t of ['a', 'b'] as const) stepLists.push([...s, t]);

/** The default, then the options whose states differ: `remove` keeps ended chains, per_step adds times, attribution adds events (read through a breakdown on each event's index). */
const VARIANTS: Array<Partial<FunnelDefinitionInput>> = [
  {},
  { exclusionEffect: 'remove' },
  { windowAnchor: 'per_step', exclusionEffect: 'remove' },
  { windowAnchor: 'per_step', attribution: 'last_touch', breakdown: 'properties.k' },
  { attribution: 'step:1', breakdown: 'properties.k' },
  // events a second apart in two-second slots: pairs at one instant, taken in the funnel's order
  { ties: 'funnel_order', tieGraceSeconds: 2, exclusionEffect: 'remove' },
];

function definitions(order: 'ordered' | 'strict' | 'unordered'): FunnelDefinitionInput[] {
  const out: FunnelDefinitionInput[] = [];
  const variants = order === 'unordered' ? [{}] : VARIANTS;
  for (const steps of stepLists) {
    const exclusions: FunnelDefinitionInput['exclusions'][] = [[]];
    if (order !== 'unordered') {
      for (let i = 0; i < steps.length; i++) for (let j = i + 1; j < steps.length; j++) for (const t of ['a', 'b', 'x'] as const) exclusions.push([{ type: LETTERS[t], afterStep: i, beforeStep: j }]);
    }
    // the middle step of three optional too: a chain may skip it, so chains that skip and take it compete
    const optionals = order !== 'unordered' && steps.length === 3 ? [false, true] : [false];
    for (const ex of exclusions) {
      for (const optional of optionals) {
        for (const variant of variants) {
          // step:1 needs a second, required step; exclusions run between required steps
          if (variant.attribution === 'step:1' && (steps.length < 2 || optional)) continue;
          if (optional && (ex ?? []).some((e) => e.afterStep === 1 || e.beforeStep === 1)) continue;
          out.push({
            steps: steps.map((t, k) => ({ type: LETTERS[t], ...(optional && k === 1 ? { optional } : {}) })),
            order,
            // a window of 4 s from anchors at 0-1 s over histories 0-5 s long: chains end inside, at and past the window's end
            window: { value: 4, unit: 'seconds' },
            dateRange: { from: new Date(T0).toISOString(), to: new Date(T0 + 2000).toISOString() },
            exclusions: ex,
            ...variant,
          });
        }
      }
    }
  }
  return out;
}

const outcomeOf = (l: Awaited<ReturnType<typeof listFunnelLeads>>['leads'][number]): FunnelActorOutcome => ({
  actorId: l.leadId ?? ANONYMOUS_ACTOR_PREFIX + l.anonymousId!,
  reached: l.reachedSteps,
  breakdown: l.breakdownValue,
  enteredAtMs: Date.parse(l.enteredAt),
  ...(l.skippedSteps === undefined ? {} : { skipped: l.skippedSteps }),
});

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`funnels over every small history (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
      await backend.reset(client);
      await applyTouchpointBatch(client, log);
    });
    afterAll(() => backend.close());

    it.each(['ordered', 'strict', 'unordered'] as const)('%s', { timeout: 600_000 }, async (order) => {
      const mismatches: string[] = [];
      for (const input of definitions(order)) {
        const definition = FunnelDefinitionSchema.parse(input);
        const want = funnelOutcomes(touchpoints, funnelSpecOf(definition));
        const got = (await listFunnelLeads(client, definition, { stepIndex: 0, limit: 10_000 })).leads.map(outcomeOf).sort((x, y) => (x.actorId < y.actorId ? -1 : 1));
        for (const w of want) {
          const g = got.find((o) => o.actorId === w.actorId);
          if (JSON.stringify(g) !== JSON.stringify(w)) mismatches.push(`${JSON.stringify(input)} history ${histories[Number(w.actorId.slice(1))]!.join('')}: sql ${JSON.stringify(g)} reference ${JSON.stringify(w)}`);
        }
        if (got.length !== want.length) mismatches.push(`${JSON.stringify(input)}: sql lists ${got.length} leads, reference ${want.length}`);
      }
      expect(mismatches.slice(0, 3)).toEqual([]);
    });
  });
}
