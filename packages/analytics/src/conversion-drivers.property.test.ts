import fc from 'fast-check';
import type { LeadProfileFacts, StageFact, StageTransition } from '@sluice/domain';
import { SEGMENT_KEYS, touchpointsFromLog } from '@sluice/domain';
import { driverCounts } from './queries/drivers/reference.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import type { ConversionDriversQueryInput } from './conversion-drivers.js';
import { ConversionDriversQuerySchema, conversionDriverCounts, driverSpecOf } from './conversion-drivers.js';
import { applyTouchpointBatch } from './sink.js';
import { applyLeadProfiles, applyStageTransitionChanges } from './stage-tables.js';
import { testBackends } from './test-backends.js';
import type { LogLine } from './test-log.js';
import { recordedLog } from './test-log.js';
import { ACTIVITY_TYPES, touchArb, touchLines } from './test-activity.js';
import { profileArb } from './test-stage-facts.js';

/*
 * ClickHouse conversion-driver counts against the reference
 * (queries/drivers/reference.ts) on generated logs, stage facts and profiles.
 *
 * A run is one config version and one region of time of its own (ids carry
 * the run number). A one-second clock over ten ticks makes ties common: a
 * touchpoint at the very millisecond its lead converted (it must not count),
 * at the window's end (it must), an SQL before the MQL (never converts).
 * Anonymous visitors linked to leads bring their history with them; an
 * unlinked one is its own actor. The report built from the counts is shared
 * code, tested by example in @sluice/domain.
 */

const RUNS = 100;
const ACTORS_PER_RUN = 40;
const REGION_MS = 86_400_000;
const BASE_MS = Date.UTC(2026, 7, 1);

const actorArb = fc.record({
  anonymous: fc.constantFrom(false, false, false, false, true),
  fromTick: fc.option(fc.integer({ min: 0, max: 9 }), { freq: 6 }),
  toTick: fc.option(fc.integer({ min: 0, max: 9 })),
  touches: fc.array(touchArb, { maxLength: 6 }),
  profile: fc.option(profileArb, { freq: 3 }),
});

const runArb = fc.record({
  actors: fc.array(actorArb, { minLength: ACTORS_PER_RUN, maxLength: ACTORS_PER_RUN }),
  fromTick: fc.integer({ min: 0, max: 4 }),
  toTick: fc.integer({ min: 1, max: 10 }),
  // 0 hours: only a conversion at the entry's millisecond counts, and a member's features end there; 1 hour: past every tick
  windowHours: fc.option(fc.constantFrom(0, 1)),
  asOfTick: fc.option(fc.integer({ min: 0, max: 9 }), { freq: 2 }),
  property: fc.constantFrom(undefined, 'properties.pageType'),
  types: fc.option(fc.subarray([...ACTIVITY_TYPES], { minLength: 1 }), { freq: 2 }),
  profileKeys: fc.option(fc.subarray([...SEGMENT_KEYS]), { freq: 2 }),
  featureLimit: fc.constantFrom(2, 5, 200),
});
type Run = ReturnType<typeof runArb.generate>['value'];

let nextRun = 0;
let nextPosition = 1;

function place(run: Run) {
  const region = nextRun++;
  const cv = `drivers-${region}`;
  const at = (tick: number) => BASE_MS + region * REGION_MS + tick * 1000;
  const lines: LogLine[] = [];
  const facts: StageFact[] = [];
  const transitions: StageTransition[] = [];
  const profiles = new Map<string, LeadProfileFacts>();
  run.actors.forEach((a, i) => {
    const lead = `d${region}L${i}`;
    const anon = `d${region}b${i}`;
    const actor = a.anonymous ? `anon~${anon}` : lead;
    const subject = a.anonymous ? { leadId: undefined, anonymousId: anon } : { leadId: lead, anonymousId: undefined };
    const stage = (to: string, tick: number) => {
      facts.push({ leadId: actor, stage: to, enteredAtMs: at(tick), skipped: false });
      transitions.push({ ...subject, from: null, to, at: at(tick), skipped: false, rule: `${to}.r`, eventId: `${actor}-${to}`, configVersion: cv });
    };
    if (a.fromTick !== null) stage('mql', a.fromTick);
    if (a.toTick !== null) stage('sql', a.toTick);
    if (a.profile !== null) profiles.set(actor, a.profile);
    lines.push(...touchLines(a.touches, { anonymous: a.anonymous, lead, anon }, at));
  });
  const log = recordedLog(lines, nextPosition, `d${region}-`);
  nextPosition += log.length;
  const input: ConversionDriversQueryInput = {
    configVersion: cv,
    from: 'mql',
    to: 'sql',
    dateRange: { from: new Date(at(run.fromTick)).toISOString(), to: new Date(at(Math.max(run.toTick, run.fromTick + 1))).toISOString() },
    ...(run.windowHours === null ? {} : { window: { value: run.windowHours, unit: 'hours' as const } }),
    ...(run.asOfTick === null ? {} : { asOf: new Date(at(run.asOfTick)).toISOString() }),
    ...(run.property === undefined ? {} : { property: run.property }),
    ...(run.types === null ? {} : { types: run.types }),
    ...(run.profileKeys === null ? {} : { profileKeys: run.profileKeys }),
    featureLimit: run.featureLimit,
  };
  const profileRows = [...profiles].map(([leadId, p]) => ({ ...p, leadId, configVersion: cv }));
  return { log, facts, transitions, profiles, profileRows, input };
}

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`conversion drivers against the reference (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
    });
    afterAll(() => backend.close());

    it('generated logs with ties at the moment of converting and at the window end', async () => {
      const stats = { leads: 0, converted: 0, eventFeatures: 0, profileFeatures: 0, featureConverted: 0 };
      await fc.assert(
        fc.asyncProperty(runArb, async (run) => {
          const { log, facts, transitions, profiles, profileRows, input } = place(run);
          await applyTouchpointBatch(client, log);
          await applyStageTransitionChanges(client, { upserts: transitions, removals: [], version: 1 });
          await applyLeadProfiles(client, profileRows, 1);
          const q = ConversionDriversQuerySchema.parse(input);
          const spec = driverSpecOf(q);
          const touchpoints = touchpointsFromLog(log);
          const want = driverCounts(touchpoints, facts, (l) => profiles.get(l), spec);
          const got = await conversionDriverCounts(client, q);
          const where = JSON.stringify(input);
          expect({ leads: got.leads, converted: got.converted, features: got.features }, where).toEqual(want);
          const all = driverCounts(touchpoints, facts, (l) => profiles.get(l), { ...spec, featureLimit: undefined });
          expect(got.truncated, where).toBe(all.features.length > q.featureLimit);
          stats.leads += want.leads;
          stats.converted += want.converted;
          for (const f of want.features) {
            if (f.kind === 'event') stats.eventFeatures++;
            else stats.profileFeatures++;
            stats.featureConverted += f.converted;
          }
        }),
        { numRuns: RUNS },
      );
      console.log(`[conversion drivers] ${RUNS} runs compared: ${JSON.stringify(stats)}`);
      expect(stats.leads).toBeGreaterThan(RUNS * 5);
      expect(Math.min(stats.converted, stats.eventFeatures, stats.profileFeatures, stats.featureConverted)).toBeGreaterThan(RUNS);
    }, 300_000);
  });
}
