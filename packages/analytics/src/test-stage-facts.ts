import fc from 'fast-check';
import type { LeadLifecycleFacts, LeadProfileFacts, SegmentKey, StageFact, StageTransition } from '@sluice/domain';
import { SEGMENT_KEYS, segmentValue } from '@sluice/domain';
import type { AnalyticsClient } from './client.js';
import type { LeadProfileRow } from './stage-tables.js';
import { applyLeadProfiles, applyStageTransitionChanges } from './stage-tables.js';

/*
 * Test-only: generated stage-transition sets for the property tests of the
 * stage-level queries (stage conversion, time to convert), aimed at the edges:
 * - every run sits at an instant where periods turn over in some zone: DST
 *   changes in Europe/Berlin and America/New_York, local Monday midnights
 *   around them, year and quarter boundaries; leads enter 1 ms before, at,
 *   1 ms after, or anywhere within two days of it;
 * - stage gaps of 0 (skips and ties), exactly the window, the window +- 1 ms,
 *   random, and negative (a `to` before its `from` never converts);
 * - the ingestion churns: some facts are first written with another time and
 *   corrected by a newer version, some keys are written and then removed, and
 *   profiles are rewritten; the reference sees only the final state;
 * - leads with a profile share a few accounts (or have none) and may sit in a
 *   side state that began around their first entry.
 * A run's leads are written under a config version of its own, so runs never
 * see each other and nothing is emptied.
 */

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const LEADS_PER_RUN = 60;
export const STAGES = ['s0', 's1', 's2', 's3'] as const;
export const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York'] as const;

export const ANCHORS = [
  '2026-03-29T01:00:00.000Z', // Berlin: 02:00 CET -> 03:00 CEST
  '2026-03-29T22:00:00.000Z', // Berlin: Monday 2026-03-30 00:00 CEST (week after the change)
  '2026-03-22T23:00:00.000Z', // Berlin: Monday 2026-03-23 00:00 CET
  '2026-10-25T01:00:00.000Z', // Berlin: 03:00 CEST -> 02:00 CET
  '2026-10-25T23:00:00.000Z', // Berlin: Monday 2026-10-26 00:00 CET
  '2026-03-08T07:00:00.000Z', // New York: 02:00 EST -> 03:00 EDT
  '2026-03-09T04:00:00.000Z', // New York: Monday 00:00 EDT
  '2026-11-01T06:00:00.000Z', // New York: 02:00 EDT -> 01:00 EST
  '2026-11-02T05:00:00.000Z', // New York: Monday 00:00 EST
  '2025-12-31T23:00:00.000Z', // Berlin: new year
  '2026-01-01T05:00:00.000Z', // New York: new year
  '2026-01-01T00:00:00.000Z', // UTC: new year (ISO week 1 began Monday 2025-12-29)
  '2026-12-28T00:00:00.000Z', // UTC: Monday of ISO week 2026-W53
  '2026-03-31T22:00:00.000Z', // Berlin: second quarter
  '2026-04-01T04:00:00.000Z', // New York: second quarter
].map((iso) => Date.parse(iso));

const nearby = fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -2 * DAY, max: 2 * DAY }));
const gap = fc.oneof(fc.constantFrom('zero', 'window', 'window+1', 'window-1', 'negative'), fc.integer({ min: 1, max: 4 * DAY }));
const VALUES = ['a', 'b', ''] as const;
const SIZES = [0, 1, 10, 11, 50, 51, 200, 1000, 5000, 5001];
export const profileArb: fc.Arbitrary<LeadProfileFacts> = fc.record({
  businessUnit: fc.constantFrom(...VALUES),
  source: fc.constantFrom(...VALUES),
  channel: fc.constantFrom(...VALUES),
  campaign: fc.constantFrom(...VALUES),
  role: fc.constantFrom(...VALUES),
  industry: fc.constantFrom(...VALUES),
  country: fc.constantFrom(...VALUES),
  companySize: fc.constantFrom(...SIZES),
  leadSource: fc.constantFrom(...VALUES),
  owner: fc.constantFrom(...VALUES),
  currentStage: fc.constantFrom(...VALUES),
});

const leadArb = fc.record({
  anonymous: fc.constantFrom(false, false, false, false, false, false, false, true),
  offset: nearby,
  stages: fc.tuple(...STAGES.map(() => fc.record({ reached: fc.constantFrom(true, true, false), gap, skipped: fc.constantFrom(false, false, false, true) }))),
  profile: fc.option(profileArb, { freq: 4 }), // a quarter of the leads have no profile
  churn: fc.constantFrom('none', 'none', 'moved', 'removed'),
  churnShift: fc.integer({ min: -3 * DAY, max: 3 * DAY }),
  accountId: fc.constantFrom('', '', 'k0', 'k1', 'k2', 'k3', 'k4', 'k5'),
  sideState: fc.constantFrom<LeadLifecycleFacts['sideState']>('', '', 'disqualified', 'recycled'),
  sideShift: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -DAY, max: 4 * DAY })),
});

/** A run's leads around one anchor, and the window their gaps are measured against. */
export const leadsArb = fc.record({
  anchor: fc.nat(ANCHORS.length - 1),
  leads: fc.array(leadArb, { minLength: LEADS_PER_RUN, maxLength: LEADS_PER_RUN }),
  window: fc.option(fc.record({ value: fc.integer({ min: 0, max: 3 }), unit: fc.constantFrom('hours' as const, 'days' as const) })),
});
export type GeneratedLeads = ReturnType<typeof leadsArb.generate>['value'];

/** An instant at a lead's entry (+-1 ms) or anywhere near the anchor. */
export const instantNear = (before: number, after: number) =>
  fc.oneof(fc.record({ lead: fc.nat(LEADS_PER_RUN - 1), shift: fc.constantFrom(-1, 0, 1) }), fc.record({ lead: fc.constant(-1), shift: fc.integer({ min: before, max: after }) }));

/** A profile filter, absent most of the time. */
export const filterArb = fc.oneof(
  { arbitrary: fc.constant(null), weight: 4 },
  { arbitrary: fc.record({ key: fc.constantFrom(...SEGMENT_KEYS), values: fc.subarray(['a', 'b', '', '1-10', '11-50', '5001+'], { minLength: 1 }) }), weight: 1 },
);

export interface PlacedLeads {
  configVersion: string;
  /** The final state the reference sees. */
  facts: StageFact[];
  profiles: Map<string, LeadProfileFacts>;
  /** Account and side state, of the leads with a profile. */
  lifecycles: Map<string, LeadLifecycleFacts>;
  /** An instant of the run: picks an entry time or shifts the anchor (see instantNear). */
  pick(r: { lead: number; shift: number }): number;
  /** Writes the run with its churn: older versions first, then the final state. */
  write(client: AnalyticsClient): Promise<void>;
}

/** The run's final facts and the batches that write them (with churn), under its own config version. */
export function placeLeads(run: GeneratedLeads, configVersion: string): PlacedLeads {
  const cv = configVersion;
  const anchor = ANCHORS[run.anchor]!;
  const windowMs = run.window === null ? DAY : run.window.value * (run.window.unit === 'hours' ? HOUR : DAY);
  const gapMs = (g: GeneratedLeads['leads'][number]['stages'][number]['gap']) =>
    typeof g === 'number' ? g : g === 'zero' ? 0 : g === 'window' ? windowMs : g === 'window+1' ? windowMs + 1 : g === 'window-1' ? Math.max(0, windowMs - 1) : -HOUR;
  const facts: StageFact[] = [];
  const profiles = new Map<string, LeadProfileFacts>();
  const lifecycles = new Map<string, LeadLifecycleFacts>();
  const v1: StageTransition[] = [];
  const v2: StageTransition[] = [];
  const removals: StageTransition[] = [];
  const firstTimes: number[] = [];
  run.leads.forEach((lead, i) => {
    const actor = lead.anonymous ? `anon~b${i}` : `L${i}`;
    const subject = lead.anonymous ? { leadId: undefined, anonymousId: `b${i}` } : { leadId: `L${i}`, anonymousId: undefined };
    let t = anchor + lead.offset;
    firstTimes.push(t);
    let previous: string | null = null;
    lead.stages.forEach((s, k) => {
      if (k > 0) t += gapMs(s.gap);
      const stage = STAGES[k]!;
      const transition: StageTransition = { ...subject, from: previous, to: stage, at: t, skipped: s.skipped, rule: `${stage}.r`, eventId: `${actor}-${stage}`, configVersion: cv };
      if (!s.reached) {
        // a key written and later removed must never be seen
        if (lead.churn === 'removed') {
          v1.push(transition);
          removals.push(transition);
        }
        return;
      }
      facts.push({ leadId: actor, stage, enteredAtMs: t, skipped: s.skipped });
      previous = stage;
      if (lead.churn === 'moved') {
        v1.push({ ...transition, at: t + lead.churnShift, rule: 'stale' });
        v2.push(transition);
      } else v1.push(transition);
    });
    if (lead.profile !== null) {
      profiles.set(actor, lead.profile);
      lifecycles.set(actor, { accountId: lead.accountId, sideState: lead.sideState, sideSinceMs: lead.sideState === '' ? 0 : anchor + lead.offset + lead.sideShift });
    }
  });
  const stale = { channel: 'stale', companySize: 7, accountId: 'stale', sideState: 'disqualified', sideSinceMs: 0 } as const;
  const profileRows = (old: boolean): LeadProfileRow[] => [...profiles].map(([leadId, p]) => ({ ...p, ...lifecycles.get(leadId), ...(old ? stale : {}), leadId, configVersion: cv }));
  return {
    configVersion: cv,
    facts,
    profiles,
    lifecycles,
    pick: (r) => (r.lead < 0 ? anchor : firstTimes[r.lead]!) + r.shift,
    async write(client) {
      await applyStageTransitionChanges(client, { upserts: v1, removals: [], version: 1 });
      await applyStageTransitionChanges(client, { upserts: v2, removals, version: 2 });
      await applyLeadProfiles(client, profileRows(true), 1);
      await applyLeadProfiles(client, profileRows(false), 2);
    },
  };
}

/** The facts of the leads whose profile passes the filters, and the segment function the reference takes. */
export function profileView(placed: PlacedLeads, filters: ReadonlyArray<{ key: SegmentKey; values: readonly string[] }>, segment: SegmentKey | undefined) {
  const keep = (leadId: string) => filters.every((f) => f.values.includes(segmentValue(placed.profiles.get(leadId), f.key)));
  return {
    facts: placed.facts.filter((f) => keep(f.leadId)),
    segmentOf: (leadId: string) => (segment === undefined ? '' : segmentValue(placed.profiles.get(leadId), segment)),
    lifecycleOf: (leadId: string) => placed.lifecycles.get(leadId),
  };
}
