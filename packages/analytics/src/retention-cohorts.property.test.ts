import fc from 'fast-check';
import type { LeadProfileFacts } from '@sluice/domain';
import { SEGMENT_KEYS, segmentValue, touchpointsFromLog } from '@sluice/domain';
import { retentionCohorts } from './queries/cohorts/reference.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import type { RetentionCohortsQueryInput } from './retention-cohorts.js';
import { PURCHASE_SEGMENT_KEYS, RetentionCohortsQuerySchema, retentionSpecOf, runRetentionCohorts } from './retention-cohorts.js';
import { applyTouchpointBatch } from './sink.js';
import { applyLeadProfiles } from './stage-tables.js';
import { testBackends } from './test-backends.js';
import type { LogLine } from './test-log.js';
import { recordedLog } from './test-log.js';
import { DAY, HOUR, ZONES, profileArb } from './test-stage-facts.js';

/*
 * ClickHouse retention cohorts against the reference (queries/cohorts/reference.ts,
 * whose periods come from luxon) on generated logs.
 *
 * Touchpoints have no config version to keep runs apart, so each run has a
 * year of its own (2000 to 2024, the tables emptied when the years run out),
 * with ids carrying the run: a run's events lie in January to June (plus two
 * days either side) and its range ends before November, so no run sees
 * another's customers. A run costs three inserts and one query. Events sit at
 * local month starts of UTC, Europe/Berlin (UTC+1/+2) and America/New_York
 * (UTC-5/-4), DST months included (and the rules of each year: New York's
 * changed in 2007), 1 ms before, at or after them, or within two days: so a
 * purchase and a renewal straddle a month or quarter boundary in one zone and
 * not in another. Purchases and
 * renewals share milliseconds (ties by log position), some customers bought
 * before the range, some actors are anonymous visitors, some leads bought
 * anonymously first and were linked later (their history moves with them).
 * By account, some actors with a profile share one of a few accounts (ids of
 * the run's year), so an account's first purchase and its retention come from
 * different actors.
 */

const RUNS = 150;
const FIRST_YEAR = 2000;
/** Years before the tables are emptied: a month partition per month used, and FINAL slows down with hundreds. */
const YEARS = 25;
const ACTORS_PER_RUN = 30;
const PROFILE_CONFIG = 'retention';

/** Where local month starts fall in UTC: 0 (UTC), -1 h / -2 h (Berlin), +5 h / +4 h (New York). */
const ZONE_SHIFTS = [0, -HOUR, -2 * HOUR, 5 * HOUR, 4 * HOUR] as const;
const monthStart = (year: number, month: number, shift: number) => Date.UTC(year, month, 1) + shift;

const instantArb = fc.record({
  month: fc.integer({ min: 0, max: 5 }),
  shift: fc.constantFrom(...ZONE_SHIFTS),
  jitter: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -2 * DAY, max: 2 * DAY })),
});
const at = (year: number, i: { month: number; shift: number; jitter: number }) => monthStart(year, i.month, i.shift) + i.jitter;

const eventArb = fc.record({
  type: fc.constantFrom('payment', 'payment', 'renewal', 'renewal', 'upsell', 'quote_accepted', 'visit'),
  when: instantArb,
  // the same millisecond as the actor's previous event (a purchase and its renewal recorded together)
  tieWithPrevious: fc.constantFrom(false, false, false, true),
  channel: fc.constantFrom('ads', 'email', undefined),
  anonymously: fc.constantFrom(false, false, true),
});

const actorArb = fc.record({
  kind: fc.constantFrom('lead', 'lead', 'lead', 'anonymous', 'linked'),
  events: fc.array(eventArb, { minLength: 1, maxLength: 6 }),
  profile: fc.option(profileArb, { freq: 3 }),
  // read only with a profile: the account rides on the profile row
  account: fc.constantFrom('', '', 'k0', 'k1', 'k2'),
});

const runArb = fc.record({
  actors: fc.array(actorArb, { minLength: ACTORS_PER_RUN, maxLength: ACTORS_PER_RUN }),
  period: fc.constantFrom('month' as const, 'month' as const, 'quarter' as const),
  timeZone: fc.constantFrom(...ZONES),
  rangeFrom: fc.record({ month: fc.integer({ min: 0, max: 4 }), shift: fc.constantFrom(...ZONE_SHIFTS), jitter: fc.constantFrom(-1, 0, 1) }),
  rangeDays: fc.constantFrom(31, 92, 200),
  purchaseTypes: fc.constantFrom(['payment'], ['payment', 'quote_accepted']),
  retentionTypes: fc.constantFrom(['renewal', 'upsell'], ['renewal'], ['payment', 'renewal']),
  offsets: fc.constantFrom(0, 1, 3, 12),
  segment: fc.option(fc.constantFrom(...PURCHASE_SEGMENT_KEYS, ...SEGMENT_KEYS), { freq: 2 }),
  segmentLimit: fc.constantFrom(1, 2, 50),
  unit: fc.constantFrom('leads' as const, 'accounts' as const),
  // the instant the answer is as of: before, among and after the run's events, so some offsets have not begun
  asOf: fc.option(fc.record({ month: fc.integer({ min: 0, max: 7 }), shift: fc.constantFrom(...ZONE_SHIFTS), jitter: fc.constantFrom(-1, 0, 1) }), { freq: 2 }),
});
type Run = ReturnType<typeof runArb.generate>['value'];

let nextRun = 0;
let nextPosition = 1;

function place(run: Run, region: number) {
  const year = FIRST_YEAR + region;
  const lines: LogLine[] = [];
  const profiles = new Map<string, LeadProfileFacts & { accountId: string }>();
  run.actors.forEach((a, i) => {
    const lead = `y${year}L${i}`;
    const anon = `y${year}b${i}`;
    let previous: number | undefined;
    for (const e of a.events) {
      const time = e.tieWithPrevious && previous !== undefined ? previous : at(year, e.when);
      previous = time;
      // a linked lead's anonymous events belong to it once any event names both
      const who = a.kind === 'anonymous' ? { anon } : a.kind === 'linked' && e.anonymously ? { anon } : a.kind === 'linked' ? { lead, anon } : { lead };
      lines.push({ type: e.type, at: time, ...who, ...(e.channel === undefined ? {} : { channel: e.channel }) });
    }
    if (a.profile !== null) profiles.set(a.kind === 'anonymous' ? `anon~${anon}` : lead, { ...a.profile, accountId: a.account === '' ? '' : `y${year}${a.account}` });
  });
  const from = at(year, run.rangeFrom);
  const input: RetentionCohortsQueryInput = {
    period: run.period,
    timeZone: run.timeZone,
    dateRange: { from: new Date(from).toISOString(), to: new Date(from + run.rangeDays * DAY).toISOString() },
    purchaseTypes: [...run.purchaseTypes],
    retentionTypes: [...run.retentionTypes],
    offsets: run.offsets,
    ...(run.segment === null ? {} : { segment: run.segment }),
    ...(run.segment === null && run.unit === 'leads' ? {} : { configVersion: PROFILE_CONFIG }),
    segmentLimit: run.segmentLimit,
    unit: run.unit,
    ...(run.asOf === null ? {} : { asOf: new Date(at(year, run.asOf)).toISOString() }),
  };
  const log = recordedLog(lines, nextPosition, `y${year}-`);
  nextPosition += log.length;
  return { log, profiles, input };
}

const PURCHASE_FIELDS = { purchaseSource: 'source', purchaseChannel: 'channel', purchaseCampaign: 'campaign' } as const;

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`retention cohorts against the reference (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
    });
    afterAll(() => backend.close());

    it('generated logs around local month starts, DST and ties', async () => {
      const stats = { cohorts: 0, customers: 0, retained: 0, retainedLater: 0, segmented: 0, leadsGrouped: 0, notYetBegun: 0 };
      await fc.assert(
        fc.asyncProperty(runArb, async (run) => {
          const region = nextRun++ % YEARS;
          if (region === 0) await backend.reset(client);
          const { log, profiles, input } = place(run, region);
          await applyTouchpointBatch(client, log);
          await applyLeadProfiles(client, [...profiles].map(([leadId, p]) => ({ ...p, leadId, configVersion: PROFILE_CONFIG })), 1);
          const q = RetentionCohortsQuerySchema.parse(input);
          const segment = q.segment;
          const segmentOf = (actorId: string, first: { fields: Record<string, string> }) =>
            segment === undefined ? '' : Object.hasOwn(PURCHASE_FIELDS, segment) ? first.fields[PURCHASE_FIELDS[segment as keyof typeof PURCHASE_FIELDS]]! : segmentValue(profiles.get(actorId), segment as (typeof SEGMENT_KEYS)[number]);
          const accountOf = (actorId: string) => profiles.get(actorId)?.accountId ?? '';
          const touchpoints = touchpointsFromLog(log);
          const want = retentionCohorts(touchpoints, retentionSpecOf(q), segmentOf, accountOf);
          const got = await runRetentionCohorts(client, input);
          const where = JSON.stringify(input);
          expect(got.cohorts, where).toEqual(want);
          const all = retentionCohorts(touchpoints, { ...retentionSpecOf(q), segmentLimit: undefined }, segmentOf, accountOf);
          const segments = new Set(all.map((r) => r.segment)).size;
          expect({ segments: got.segments, truncated: got.truncated }, where).toEqual({ segments, truncated: segments > q.segmentLimit });
          stats.cohorts += want.length;
          for (const r of want) {
            stats.customers += r.customers;
            stats.retained += r.retained[0] ?? 0;
            stats.retainedLater += r.retained.slice(1).reduce<number>((a, b) => a + (b ?? 0), 0);
            stats.notYetBegun += r.retained.filter((n) => n === null).length;
            if (r.segment !== '') stats.segmented++;
          }
          if (q.unit === 'accounts') {
            const customers = (rows: typeof all) => rows.reduce((n, r) => n + r.customers, 0);
            stats.leadsGrouped += customers(retentionCohorts(touchpoints, { ...retentionSpecOf(q), unit: 'leads', segmentLimit: undefined }, segmentOf)) - customers(all);
          }
        }),
        { numRuns: RUNS },
      );
      // the runs exercised every part of the answer: cohorts, retention in the first period and later ones, segments, leads grouped into accounts, periods not yet begun
      console.log(`[retention cohorts] ${RUNS} runs compared: ${JSON.stringify(stats)}`);
      expect(stats.customers).toBeGreaterThan(RUNS * 3);
      expect(Math.min(stats.retained, stats.retainedLater, stats.segmented, stats.leadsGrouped, stats.notYetBegun)).toBeGreaterThan(RUNS / 10);
    }, 300_000);
  });
}
