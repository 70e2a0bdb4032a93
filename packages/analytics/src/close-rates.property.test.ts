import fc from 'fast-check';
import type { StageFact, StageTransition } from '@sluice/domain';
import { touchpointsFromLog } from '@sluice/domain';
import { closeRateCounts } from './queries/close-rates/reference.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { activityCloseRateCounts } from './close-rates.js';
import type { ActivityCloseRatesQueryInput } from './stage-queries.js';
import { ActivityCloseRatesQuerySchema, closeRateSpecOf } from './stage-queries.js';
import { applyTouchpointBatch } from './sink.js';
import { applyStageTransitionChanges } from './stage-tables.js';
import { testBackends } from './test-backends.js';
import type { LogLine } from './test-log.js';
import { recordedLog } from './test-log.js';
import { ACTIVITY_TYPES, touchArb, touchLines } from './test-activity.js';

/*
 * ClickHouse activity close-rate counts against the reference
 * (queries/close-rates/reference.ts) on generated logs and stage facts.
 *
 * A run is one config version and one region of time of its own (ids carry
 * the run number, so touchpoints never mix across runs): two inserts and one
 * query (the report built from the counts is shared code, tested with the
 * reference in @sluice/domain). A one-second clock over ten ticks makes ties common, above all a
 * touchpoint at the very millisecond its lead became a customer (it must not
 * count). Anonymous visitors linked to leads bring their history with them;
 * an unlinked one is its own actor (`anon~<id>`) and may be in the
 * population too.
 */

const RUNS = 120;
const ACTORS_PER_RUN = 40;
const REGION_MS = 86_400_000;
const BASE_MS = Date.UTC(2026, 5, 1);

const actorArb = fc.record({
  // an unlinked anonymous visitor: its facts and touchpoints are under anon~<id>
  anonymous: fc.constantFrom(false, false, false, false, true),
  populationTick: fc.option(fc.integer({ min: 0, max: 9 }), { freq: 6 }),
  customerTick: fc.option(fc.integer({ min: 0, max: 9 })),
  touches: fc.array(touchArb, { maxLength: 6 }),
});

const runArb = fc.record({
  actors: fc.array(actorArb, { minLength: ACTORS_PER_RUN, maxLength: ACTORS_PER_RUN }),
  fromTick: fc.integer({ min: 0, max: 4 }),
  toTick: fc.integer({ min: 1, max: 10 }),
  asOfTick: fc.option(fc.integer({ min: 0, max: 9 }), { freq: 2 }),
  property: fc.constantFrom(undefined, 'properties.pageType'),
  types: fc.option(fc.subarray([...ACTIVITY_TYPES], { minLength: 1 }), { freq: 2 }),
  activityLimit: fc.constantFrom(2, 5, 200),
});
type Run = ReturnType<typeof runArb.generate>['value'];

let nextRun = 0;
let nextPosition = 1;

function place(run: Run) {
  const region = nextRun++;
  const cv = `close-${region}`;
  const at = (tick: number) => BASE_MS + region * REGION_MS + tick * 1000;
  const lines: LogLine[] = [];
  const facts: StageFact[] = [];
  const transitions: StageTransition[] = [];
  run.actors.forEach((a, i) => {
    const lead = `r${region}L${i}`;
    const anon = `r${region}b${i}`;
    const actor = a.anonymous ? `anon~${anon}` : lead;
    const subject = a.anonymous ? { leadId: undefined, anonymousId: anon } : { leadId: lead, anonymousId: undefined };
    const stage = (to: string, tick: number) => {
      facts.push({ leadId: actor, stage: to, enteredAtMs: at(tick), skipped: false });
      transitions.push({ ...subject, from: null, to, at: at(tick), skipped: false, rule: `${to}.r`, eventId: `${actor}-${to}`, configVersion: cv });
    };
    if (a.populationTick !== null) stage('lead', a.populationTick);
    if (a.customerTick !== null) stage('customer', a.customerTick);
    lines.push(...touchLines(a.touches, { anonymous: a.anonymous, lead, anon }, at));
  });
  const log = recordedLog(lines, nextPosition, `r${region}-`);
  nextPosition += log.length;
  const input: ActivityCloseRatesQueryInput = {
    configVersion: cv,
    populationStage: 'lead',
    customerStage: 'customer',
    dateRange: { from: new Date(at(run.fromTick)).toISOString(), to: new Date(at(Math.max(run.toTick, run.fromTick + 1))).toISOString() },
    ...(run.asOfTick === null ? {} : { asOf: new Date(at(run.asOfTick)).toISOString() }),
    ...(run.property === undefined ? {} : { property: run.property }),
    ...(run.types === null ? {} : { types: run.types }),
    activityLimit: run.activityLimit,
    minLeads: 2,
  };
  return { log, facts, transitions, input };
}

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`activity close rates against the reference (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
    });
    afterAll(() => backend.close());

    it('generated logs with ties at the moment of becoming a customer', async () => {
      const stats = { leads: 0, customers: 0, activityLeads: 0, activityCustomers: 0 };
      await fc.assert(
        fc.asyncProperty(runArb, async (run) => {
          const { log, facts, transitions, input } = place(run);
          await applyTouchpointBatch(client, log);
          await applyStageTransitionChanges(client, { upserts: transitions, removals: [], version: 1 });
          const q = ActivityCloseRatesQuerySchema.parse(input);
          const want = closeRateCounts(touchpointsFromLog(log), facts, closeRateSpecOf(q));
          const got = await activityCloseRateCounts(client, q);
          const where = JSON.stringify(input);
          expect({ leads: got.leads, customers: got.customers, activities: got.activities }, where).toEqual(want);
          const all = closeRateCounts(touchpointsFromLog(log), facts, { ...closeRateSpecOf(q), activityLimit: undefined });
          expect(got.truncated, where).toBe(all.activities.length > q.activityLimit);
          stats.leads += want.leads;
          stats.customers += want.customers;
          for (const a of want.activities) {
            stats.activityLeads += a.leads;
            stats.activityCustomers += a.customers;
          }
        }),
        { numRuns: RUNS },
      );
      console.log(`[close rates] ${RUNS} runs compared: ${JSON.stringify(stats)}`);
      expect(stats.leads).toBeGreaterThan(RUNS * 5);
      expect(stats.activityCustomers).toBeGreaterThan(RUNS);
    });
  });
}
