import fc from 'fast-check';
import type { LeadState, StageTransition } from '@sluice/domain';
import { evolve, initialLeadState, leadStateAsOf, stageTransitions, transitionChanges } from '@sluice/domain';
import type { EventType, SluiceEvent } from '@sluice/schemas';
import { RuleConfigSchema, parseEvent } from '@sluice/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { applyLeadProfiles, applyStageTransitionChanges, leadProfileOf } from './stage-tables.js';
import { testBackends } from './test-backends.js';

/*
 * The projector-facing writes: what a reader sees (FINAL, deleted keys
 * hidden) after batches of changes arrive at least once and in any order.
 * Every test writes under its own config version, so nothing needs emptying.
 */

const T0 = Date.UTC(2026, 2, 2, 9);
const HOUR = 3_600_000;

const transition = (configVersion: string, leadId: string, to: string, at: number, more: Partial<StageTransition> = {}): StageTransition => ({
  leadId,
  anonymousId: undefined,
  from: null,
  to,
  at,
  skipped: false,
  rule: `${to}.rule`,
  eventId: `${leadId}-${to}`,
  configVersion,
  ...more,
});

interface StoredTransition {
  lead_id: string;
  stage: string;
  from_stage: string;
  entered_ms: number | string;
  skipped: boolean;
  rule: string;
  event_id: string;
}

/** What a reader sees under a config: one row per (lead, stage), deleted keys hidden. */
async function visible(client: AnalyticsClient, configVersion: string) {
  const rows = await client.rows<StoredTransition>(
    `SELECT lead_id, stage, from_stage, toUnixTimestamp64Milli(entered_at) AS entered_ms, skipped, rule, event_id
     FROM stage_transitions FINAL WHERE config_version = {cv:String} AND is_deleted = 0 ORDER BY lead_id, stage`,
    { cv: configVersion },
  );
  return rows.map((r) => ({ ...r, entered_ms: Number(r.entered_ms) }));
}

const expected = (transitions: readonly StageTransition[]) =>
  transitions
    .map((t) => ({
      lead_id: t.leadId ?? `anon~${t.anonymousId!}`,
      stage: t.to,
      from_stage: t.from ?? '',
      entered_ms: t.at,
      skipped: t.skipped,
      rule: t.rule,
      event_id: t.eventId,
    }))
    .sort((a, b) => (a.lead_id < b.lead_id ? -1 : a.lead_id > b.lead_id ? 1 : a.stage < b.stage ? -1 : a.stage > b.stage ? 1 : 0));

/** Events through the real schema, for the real lifecycle rules. */
function event(leadId: string, id: string, type: EventType, atMs: number, properties: Record<string, unknown> = {}): SluiceEvent {
  const parsed = parseEvent({ id, type, occurredAt: new Date(atMs).toISOString(), leadId, properties });
  if (!parsed.ok) throw new Error(`bad test event: ${JSON.stringify(parsed.issues)}`);
  return parsed.event;
}

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`stage tables (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
    });
    afterAll(() => backend.close());

    it('given a batch applied twice, a later change and a removal, then the reader sees the newest state of each key', async () => {
      const cv = 'tables-example';
      const first = { upserts: [transition(cv, 'L1', 'lead', T0), transition(cv, 'L1', 'mql', T0 + HOUR), transition(cv, 'L2', 'lead', T0)], removals: [], version: 10 };
      await applyStageTransitionChanges(client, first);
      await applyStageTransitionChanges(client, first);
      expect(await visible(client, cv)).toEqual(expected(first.upserts));

      // a late, older event moves L1's MQL earlier and removes L2's lead stage
      const moved = transition(cv, 'L1', 'mql', T0 + 1, { rule: 'mql.other' });
      await applyStageTransitionChanges(client, { upserts: [moved], removals: [transition(cv, 'L2', 'lead', T0)], version: 20 });
      const now = [transition(cv, 'L1', 'lead', T0), moved];
      expect(await visible(client, cv)).toEqual(expected(now));

      // the first batch redelivered after the newer one changes nothing, merged or not
      await applyStageTransitionChanges(client, first);
      expect(await visible(client, cv)).toEqual(expected(now));
      await client.command('OPTIMIZE TABLE stage_transitions FINAL');
      expect(await visible(client, cv)).toEqual(expected(now));

      // a removed key comes back with a newer version
      await applyStageTransitionChanges(client, { upserts: [transition(cv, 'L2', 'lead', T0 + 5)], removals: [], version: 30 });
      expect(await visible(client, cv)).toEqual(expected([...now, transition(cv, 'L2', 'lead', T0 + 5)]));

      // an anonymous subject is stored under its actor id
      await applyStageTransitionChanges(client, { upserts: [transition(cv, 'x', 'visitor', T0, { leadId: undefined, anonymousId: 'b1' })], removals: [], version: 31 });
      expect((await visible(client, cv)).map((r) => r.lead_id)).toContain('anon~b1');
    });

    it('refuses conflicting changes for one key in one batch and versions that are not log positions', async () => {
      const cv = 'tables-refused';
      const a = transition(cv, 'L1', 'lead', T0);
      await expect(applyStageTransitionChanges(client, { upserts: [a], removals: [a], version: 1 })).rejects.toThrow(/conflicting changes for stage lead of L1/);
      await expect(applyStageTransitionChanges(client, { upserts: [a, { ...a, at: T0 + 1 }], removals: [], version: 1 })).rejects.toThrow(/one net change/);
      await expect(applyStageTransitionChanges(client, { upserts: [a], removals: [], version: -1 })).rejects.toThrow(/non-negative integer/);
      await expect(applyStageTransitionChanges(client, { upserts: [a], removals: [], version: 1.5 })).rejects.toThrow(/non-negative integer/);
      expect(await visible(client, cv)).toEqual([]);
      // the same transition twice is one change
      await applyStageTransitionChanges(client, { upserts: [a, { ...a }], removals: [], version: 1 });
      expect(await visible(client, cv)).toEqual(expected([a]));
    });

    it('given generated batches delivered at least once in any order, then each key shows its highest-version change', async () => {
      const leads = ['L1', 'L2', 'L3'];
      const stages = ['lead', 'mql', 'sql'];
      const change = fc.record({ lead: fc.constantFrom(...leads), stage: fc.constantFrom(...stages), removed: fc.boolean(), at: fc.integer({ min: 0, max: 5 }), rule: fc.constantFrom('a', 'b') });
      // a batch: its changes (one per key) and its version
      const batches = fc.array(fc.uniqueArray(change, { selector: (c) => `${c.lead}/${c.stage}`, maxLength: 6 }), { minLength: 1, maxLength: 8 });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(batches, fc.array(fc.nat(), { maxLength: 12 }), fc.infiniteStream(fc.nat()), async (generated, redeliveries, order) => {
          const cv = `tables-prop-${run++}`;
          const toChange = (b: (typeof generated)[number], version: number) => ({
            upserts: b.filter((c) => !c.removed).map((c) => transition(cv, c.lead, c.stage, T0 + c.at, { rule: c.rule })),
            removals: b.filter((c) => c.removed).map((c) => transition(cv, c.lead, c.stage, T0 + c.at, { rule: c.rule })),
            version,
          });
          const all = generated.map((b, i) => toChange(b, i + 1));
          // every batch at least once, some again, in a shuffled order
          const deliveries = [...all, ...redeliveries.map((r) => all[r % all.length]!)];
          const it = order[Symbol.iterator]();
          for (let i = deliveries.length - 1; i > 0; i--) {
            const j = it.next().value! % (i + 1);
            [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
          }
          for (const d of deliveries) await applyStageTransitionChanges(client, d);
          const latest = new Map<string, { t: StageTransition; removed: boolean }>();
          for (const b of all) {
            for (const t of b.upserts) latest.set(`${t.leadId}/${t.to}`, { t, removed: false });
            for (const t of b.removals) latest.set(`${t.leadId}/${t.to}`, { t, removed: true });
          }
          const want = [...latest.values()].filter((x) => !x.removed).map((x) => x.t);
          expect(await visible(client, cv)).toEqual(expected(want));
        }),
        { numRuns: 60 },
      );
    });

    it('given the real lifecycle with late, older events, when each event’s changes are applied (twice), then the table equals the final transitions', async () => {
      const config = RuleConfigSchema.parse({ version: 'tables-domain' });
      const h = (n: number) => T0 + n * HOUR;
      // in arrival order: the disqualification at h(2) and the first visit at h(-1) arrive last
      const arrivals = [
        event('L1', 'e1', 'visit', h(0)),
        event('L1', 'e2', 'form_submit', h(1), { formId: 'f' }),
        event('L1', 'e3', 'demo_requested', h(3)),
        event('L1', 'e4', 'payment', h(5), { amount: 100, currency: 'EUR' }),
        event('L1', 'e5', 'disqualified', h(2), { reason: 'no_fit' }),
        event('L1', 'e6', 'visit', h(-1)),
      ];
      let state: LeadState = initialLeadState({ kind: 'lead', leadId: 'L1' }, config);
      const perEvent: Array<{ upserts: StageTransition[]; removals: StageTransition[] }> = [];
      for (const [i, e] of arrivals.entries()) {
        const next = evolve(state, e, config);
        const changes = transitionChanges(state, next, config);
        perEvent.push(changes);
        await applyStageTransitionChanges(client, { ...changes, version: i + 1 });
        state = next;
      }
      const final = stageTransitions(state, config);
      // the late disqualification removed what came after it; the late visit moved the visitor entry
      expect(final.map((t) => t.to)).toEqual(['visitor', 'lead']);
      expect(perEvent.some((c) => c.removals.length > 0)).toBe(true);
      expect(await visible(client, 'tables-domain')).toEqual(expected(final));
      // everything delivered again, in order
      for (const [i, c] of perEvent.entries()) await applyStageTransitionChanges(client, { ...c, version: i + 1 });
      expect(await visible(client, 'tables-domain')).toEqual(expected(final));

      // and its profile row
      const snapshot = leadStateAsOf(state, h(6), config);
      await applyLeadProfiles(client, [leadProfileOf(snapshot)], arrivals.length);
      const [profile] = await client.rows<{ lead_id: string; stage: string; business_unit: string; account_id: string; side_state: string; side_since_ms: number | string }>(
        'SELECT lead_id, stage, business_unit, account_id, side_state, toUnixTimestamp64Milli(side_since) AS side_since_ms FROM lead_profile FINAL WHERE config_version = {cv:String}',
        { cv: 'tables-domain' },
      );
      // the late disqualification at h(2) is the side state stage conversion's rates read; the events name no account
      expect({ ...profile, side_since_ms: Number(profile?.side_since_ms) }).toEqual({ lead_id: 'L1', stage: 'lead', business_unit: snapshot.businessUnit, account_id: '', side_state: 'disqualified', side_since_ms: h(2) });
    });

    it('given profile rows at several versions, then the highest version wins and, within one call, the later row', async () => {
      const cv = 'profiles';
      const row = (channel: string, companySize = 0) => ({
        leadId: 'L1',
        configVersion: cv,
        businessUnit: 'emea',
        source: 'google',
        channel,
        campaign: 'spring',
        role: 'economic_buyer',
        industry: 'banking',
        country: 'DE',
        companySize,
        leadSource: '',
        owner: 'rep-1',
        currentStage: 'mql',
      });
      const read = () => client.rows<{ channel: string; company_size: number | string }>('SELECT channel, company_size FROM lead_profile FINAL WHERE config_version = {cv:String}', { cv });
      await applyLeadProfiles(client, [row('paid'), row('organic', 120)], 5);
      await applyLeadProfiles(client, [row('social')], 4);
      await applyLeadProfiles(client, [row('paid'), row('organic', 120)], 5);
      expect((await read()).map((r) => ({ ...r, company_size: Number(r.company_size) }))).toEqual([{ channel: 'organic', company_size: 120 }]);
      await expect(applyLeadProfiles(client, [row('x', -1)], 6)).rejects.toThrow(/companySize of L1/);
    });
  });
}
