import type { AnalyticsClient } from '@sluice/analytics';
import { applyStageStates, parkedInClickHouse, runStageTableSink, syncStageTables } from '@sluice/analytics';
import type { FollowerFailure } from '@sluice/follower';
import type { EventStore } from '@sluice/event-store';
import { type ProjectionStore, openProjectionStore, rebuild, stageStateSource, startProjector } from '@sluice/projector';
import type { SluiceEvent } from '@sluice/schemas';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testBackends } from '../../packages/analytics/src/test-backends.js';
import { type TempDir, appendAll, demoEvents, demoRules, eventsFor, isoAt, openEventStore, stitchedJourney, tempDir } from '../../packages/projector/src/test-support.js';
import { type StageRows, clickhouseStageRows, projectorStageRows } from './stage-rows.js';

/*
 * The projector's read models -> the stage-table sink -> ClickHouse, all real
 * (SQLite files, chDB; a ClickHouse server too when CLICKHOUSE_URL is set).
 * "Equal" compares what a reader sees (FINAL) with the projector's rows.
 */

const rules = demoRules();

/** A second lead and a visitor nobody claims, so the tables hold more than one actor of each kind. */
function bystanders(): SluiceEvent[] {
  const other = eventsFor({ leadId: 'L2' }, 'L2');
  const visitor = eventsFor({ anonymousId: 'v9' }, 'v9');
  return [other('form_submit', isoAt(1), { formId: 'newsletter' }), visitor('visit', isoAt(2), {}, { source: 'bing' })];
}

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`stage-table sink (${backend.name})`, () => {
    let client: AnalyticsClient;
    let tmp: TempDir;
    let store: EventStore;
    let projections: ProjectionStore;

    beforeAll(async () => {
      client = await backend.open();
    });
    afterAll(() => backend.close());
    beforeEach(async () => {
      await backend.reset(client);
      await client.command('TRUNCATE TABLE parked_events');
      tmp = tempDir('sluice-stage-sink-');
      store = await openEventStore(tmp.path('events.sqlite'));
      projections = openProjectionStore(tmp.path('projections.sqlite'));
    });
    afterEach(async () => {
      projections.close();
      await store.close();
      tmp.remove();
    });

    /** Runs the live projector and the sink until both have everything; returns the ClickHouse rows. */
    async function projectAndSink(config = rules) {
      const projector = startProjector({ store, projections, config, batchSize: 2 });
      const sink = runStageTableSink(stageStateSource(projections), client, { pageSize: 2 });
      try {
        await projector.caughtUp();
        await sink.caughtUp();
      } finally {
        await sink.stop();
        await projector.stop();
      }
      return clickhouseStageRows(client, config.version);
    }

    it('given a small log, when projected and sunk, then ClickHouse holds exactly the projector transitions and profiles', async () => {
      await appendAll(store, [...stitchedJourney(), ...bystanders()]);
      const rows = await projectAndSink();
      expect(rows).toEqual(projectorStageRows(projections));
      expect(rows.transitions.filter((t) => t.lead_id === 'L1').map((t) => [t.from_stage, t.stage, t.skipped])).toEqual([
        ['visitor', 'lead', false],
        ['lead', 'mql', true],
        ['mql', 'sql', false],
        ['', 'visitor', false],
      ]);
      expect(rows.transitions.map((t) => t.lead_id)).toContain('anon~v9');
      expect(rows.profiles.find((p) => p.lead_id === 'L1')).toMatchObject({ business_unit: 'enterprise', source: 'google', role: 'economic_buyer', country: 'DE', stage: 'sql' });
    });

    it('given a lead in SQL, when an older disqualification arrives late, then ClickHouse drops the stages it never reached', async () => {
      await appendAll(store, stitchedJourney());
      const before = await projectAndSink();
      expect(before.transitions.filter((t) => t.lead_id === 'L1').map((t) => t.stage).sort()).toEqual(['lead', 'mql', 'sql', 'visitor']);

      await appendAll(store, [eventsFor({ leadId: 'L1' }, 'late')('disqualified', isoAt(3, 30), { reason: 'spam' })]);
      const after = await projectAndSink();
      expect(after.transitions.filter((t) => t.lead_id === 'L1').map((t) => t.stage).sort()).toEqual(['lead', 'visitor']);
      expect(after.profiles.find((p) => p.lead_id === 'L1')!.stage).toBe('lead');
      expect(after).toEqual(projectorStageRows(projections));
    });

    it('given an anonymous history already in ClickHouse, when it is merged into a lead, then its own transitions are removed and the lead carries them', async () => {
      const journey = stitchedJourney();
      await appendAll(store, journey.slice(0, 3));
      const anonymous = await projectAndSink();
      expect(anonymous.transitions.map((t) => [t.lead_id, t.stage])).toEqual([['anon~v1', 'visitor']]);

      await appendAll(store, journey.slice(3));
      const merged = await projectAndSink();
      expect(merged.transitions.filter((t) => t.lead_id === 'anon~v1')).toEqual([]);
      expect(merged.transitions.find((t) => t.lead_id === 'L1' && t.stage === 'visitor')?.entered_ms).toBe(Date.parse(isoAt(0)));
      expect(merged).toEqual(projectorStageRows(projections));
    });

    it('given a subject whose state ClickHouse refuses, when sunk, then it is parked with the reason and every other subject reaches the stage tables', async () => {
      await appendAll(store, [...stitchedJourney(), ...bystanders()]);
      const projector = startProjector({ store, projections, config: rules });
      await projector.caughtUp();
      await projector.stop();
      // written into the read models past the projector (as a bug or an older file could): a lone surrogate in L2's profile, which ClickHouse's JSON input refuses
      projections.db.prepare("UPDATE leads SET profile = ? WHERE subject = 'lead-L2'").run('{"role":"buyer\\ud800"}');

      const parked: string[] = [];
      const sink = runStageTableSink(stageStateSource(projections), client, { pageSize: 2, onParked: (p) => parked.push(p.item.kind) });
      try {
        await sink.caughtUp();
        expect(sink.position).toBe(projections.state().position);
        expect(sink.status().parkedSinceStart).toBe(1);
      } finally {
        await sink.stop();
      }
      expect(parked).toEqual(['subject']);
      expect(await parkedInClickHouse(client, 'stage_tables')).toEqual([expect.objectContaining({ itemId: 'L2', itemType: 'subject', reason: expect.stringMatching(/surrogate/) })]);
      const others = ({ transitions, profiles }: StageRows) => ({ transitions: transitions.filter((t) => t.lead_id !== 'L2'), profiles: profiles.filter((p) => p.lead_id !== 'L2') });
      const rows = await clickhouseStageRows(client, rules.version);
      const expected = projectorStageRows(projections);
      expect(others(rows)).toEqual(others(expected));
      expect(expected.profiles.map((p) => p.lead_id)).toContain('L2');
      expect(rows.profiles.map((p) => p.lead_id)).not.toContain('L2');
    });

    it('given ClickHouse failing as a full disk does for a while, when sunk, then the sink retries until it clears and catches up without a restart, parking nothing', async () => {
      await appendAll(store, [...stitchedJourney(), ...bystanders()]);
      const projector = startProjector({ store, projections, config: rules });
      await projector.caughtUp();
      await projector.stop();

      // a fault injected into the real client: its next 5 inserts fail with ENOSPC, then it writes again
      const insert = client.insert;
      let failing = 5;
      client.insert = (table, rows) => {
        if (failing === 0) return insert.call(client, table, rows);
        failing -= 1;
        return Promise.reject(Object.assign(new Error('Cannot write to file: No space left on device'), { code: 'ENOSPC' }));
      };
      const retries: FollowerFailure[] = [];
      const sink = runStageTableSink(stageStateSource(projections), client, { pageSize: 2, retry: { initialMs: 1, maxMs: 5 }, onRetry: (f) => retries.push(f) });
      try {
        await sink.caughtUp();
        expect(sink.status()).toMatchObject({ parkedSinceStart: 0, position: projections.state().position });
      } finally {
        await sink.stop();
        client.insert = insert;
      }
      expect(retries.map((f) => f.attempts)).toEqual([1, 2, 3, 4, 5]);
      expect(retries.every((f) => /No space left on device/.test(f.reason))).toBe(true);
      expect(await parkedInClickHouse(client, 'stage_tables')).toEqual([]);
      expect(await clickhouseStageRows(client, rules.version)).toEqual(projectorStageRows(projections));
    });

    it('given everything sunk, when every subject is delivered again (same pages, then a rebuild of the same log), then the rows do not change', async () => {
      await appendAll(store, [...stitchedJourney(), ...bystanders(), ...demoEvents(600, 4)]);
      const once = await projectAndSink();
      expect(once).toEqual(projectorStageRows(projections));

      // the same pages at the same version: a crash after the writes, before the checkpoint
      const source = stageStateSource(projections);
      const head = source.head();
      const all = source.read({ after: 0, until: head.position, limit: 1_000_000, cursor: undefined });
      await applyStageStates(client, rules.version, all.subjects, all.position);
      await applyStageStates(client, rules.version, all.subjects, all.position);
      expect(await clickhouseStageRows(client, rules.version)).toEqual(once);

      // a rebuild is a new build: its first pass writes every subject again, at the same position
      await rebuild({ store, projections, config: rules });
      const again = await syncStageTables(stageStateSource(projections), client);
      expect(again).toMatchObject({ from: 0, to: head.position, subjects: all.subjects.length });
      expect(await clickhouseStageRows(client, rules.version)).toEqual(once);
      // and a pass with nothing new writes nothing
      expect(await syncStageTables(stageStateSource(projections), client)).toMatchObject({ from: head.position, to: head.position, subjects: 0 });
    });

    it('given a rebuild under a new rule version, when synced, then that version equals the rebuilt read models and the old one stays', async () => {
      await appendAll(store, [...stitchedJourney(), ...bystanders()]);
      const v1 = await projectAndSink();
      const next = demoRules('demo-rules-2');
      await rebuild({ store, projections, config: next });
      await syncStageTables(stageStateSource(projections), client);
      expect(await clickhouseStageRows(client, next.version)).toEqual(projectorStageRows(projections));
      expect(await clickhouseStageRows(client, rules.version)).toEqual(v1);
    });

    it('given a live sink, when the read models are rebuilt under it (a new build, new rules), then it follows the new build to the rebuilt state', async () => {
      await appendAll(store, [...stitchedJourney(), ...bystanders()]);
      const projector = startProjector({ store, projections, config: rules });
      await projector.caughtUp();
      await projector.stop();
      const sink = runStageTableSink(stageStateSource(projections), client, { pageSize: 2, pollIntervalMs: 10 });
      try {
        await sink.caughtUp();
        const v1 = await clickhouseStageRows(client, rules.version);
        expect(v1).toEqual(projectorStageRows(projections));

        const next = demoRules('demo-rules-2');
        await rebuild({ store, projections, config: next });
        await sink.caughtUp();
        expect(sink.position).toBe(projections.state().position);
        expect(await clickhouseStageRows(client, next.version)).toEqual(projectorStageRows(projections));
        expect(await clickhouseStageRows(client, rules.version)).toEqual(v1);
      } finally {
        await sink.stop();
      }
    });

    it('given read models rebuilt while still behind what ClickHouse holds for their rules, when synced, then the sink waits for the projector instead of writing older state', async () => {
      await appendAll(store, stitchedJourney());
      await projectAndSink();
      await appendAll(store, [eventsFor({ leadId: 'L1' }, 'late')('disqualified', isoAt(3, 30), { reason: 'spam' })]);
      const expected = await projectAndSink();

      // a rebuild killed early: the new build stops at position 3
      const head = await store.headPosition();
      const partial = openProjectionStore(tmp.path('partial.sqlite'));
      try {
        const shortLog = { readAll: store.readAll.bind(store), readStream: store.readStream.bind(store), headPosition: async () => 3 } as unknown as EventStore;
        await rebuild({ store: shortLog, projections: partial, config: rules });
        expect(await syncStageTables(stageStateSource(partial), client)).toMatchObject({ from: 0, to: 0, subjects: 0, waitingFor: head });
        expect(await clickhouseStageRows(client, rules.version)).toEqual(expected);
      } finally {
        partial.close();
      }
    });
  });
}
