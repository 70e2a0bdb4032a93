import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore, NewEvent } from '@sluice/event-store';
import { openSqliteEventStore } from '@sluice/event-store';
import { anonymousStream, streamFor, touchpointsFromLog } from '@sluice/domain';
import { countFunnel } from './queries/funnel/reference.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { FunnelDefinitionSchema, funnelSpecOf } from './funnel-definition.js';
import { listFunnelLeads, runFunnel } from './funnel.js';
import { parkedInClickHouse } from './parked.js';
import { DEFAULT_SINK_NAME, applyTouchpointBatch, readSinkCheckpoint, runTouchpointSink, syncTouchpoints } from './sink.js';
import { testBackends } from './test-backends.js';
import type { LogLine } from './test-log.js';
import { recordedLog } from './test-log.js';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const min = (m: number) => T0 + m * 60_000;
const funnel = FunnelDefinitionSchema.parse({
  steps: [{ type: 'visit' }, { type: 'form_submit' }, { type: 'demo_held' }],
  window: { value: 1, unit: 'days' },
  dateRange: { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' },
  breakdown: 'source',
});

/** Appends lines the way ingestion does: each event to its stream, its identity link to the anonymous stream, atomically. */
async function append(store: EventStore, lines: LogLine[], idPrefix: string): Promise<void> {
  const requests = new Map<string, NewEvent[]>();
  const push = (streamId: string, e: NewEvent) => requests.set(streamId, [...(requests.get(streamId) ?? []), e]);
  // recordedLog gives the same data objects the API would store
  for (const r of recordedLog(lines, 1, idPrefix)) push(r.type === 'identity_linked' ? r.streamId : streamFor(r.data as { leadId?: string; anonymousId?: string }), { id: r.id, type: r.type, data: r.data });
  await store.appendMany([...requests].map(([streamId, events]) => ({ streamId, events })));
}

const journey = (lead: string, anon: string, source: string, from: number): LogLine[] => [
  { type: 'visit', at: min(from), anon, source },
  { type: 'visit', at: min(from + 1), anon },
  { type: 'form_submit', at: min(from + 2), anon, lead, properties: { formId: 'contact' } },
  { type: 'demo_held', at: min(from + 30), lead, properties: { demoId: 'd1' } },
];

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`touchpoint sink (${backend.name})`, () => {
    let client: AnalyticsClient;
    let dir: string;
    let store: EventStore;
    beforeAll(async () => {
      client = await backend.open();
    });
    beforeEach(async () => {
      await backend.reset(client);
      dir = mkdtempSync(join(tmpdir(), 'sluice-sink-'));
      store = await openSqliteEventStore({ path: join(dir, 'events.db') });
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    afterAll(() => backend.close());

    /** Funnel counts and step-0 leads from ClickHouse, with the reference's answer over the store's whole log. */
    async function answers() {
      const counts = await runFunnel(client, funnel);
      const leads = await listFunnelLeads(client, funnel, { stepIndex: 0 });
      const reference = countFunnel(touchpointsFromLog(await store.readAll()), funnelSpecOf(funnel));
      return { counts, leads, reference };
    }

    it('applies the log up to the head, then moves the checkpoint there', async () => {
      await append(store, [...journey('L1', 'b1', 'ads', 0), ...journey('L2', 'b2', 'seo', 5).slice(0, 2)], 'a');
      const head = await store.headPosition();
      expect(await syncTouchpoints(store, client, { batchSize: 3 })).toEqual({ from: 0, to: head });
      expect(await readSinkCheckpoint(client)).toBe(head);
      expect(await syncTouchpoints(store, client)).toEqual({ from: head, to: head });
      const { counts, reference } = await answers();
      expect(counts.steps.map((s) => s.leads)).toEqual([2, 1, 1]);
      expect(counts.steps.map(({ type: _t, ...s }) => s)).toEqual(reference.steps);
      expect(counts.breakdown?.groups).toEqual(reference.breakdown);
    });

    it('a batch delivered twice changes no answer', async () => {
      await append(store, [...journey('L1', 'b1', 'ads', 0), ...journey('L2', 'b2', 'seo', 5)], 'a');
      const batch = await store.readAll();
      await applyTouchpointBatch(client, batch);
      const once = await answers();
      await applyTouchpointBatch(client, batch);
      await applyTouchpointBatch(client, batch.slice(2, 5));
      const raw = await client.rows<{ n: number | string }>('SELECT count() AS n FROM touchpoints');
      expect(Number(raw[0]!.n)).toBeGreaterThan(batch.length); // the duplicates are there ...
      expect(await answers()).toEqual(once); // ... and count once
      expect(once.counts.steps.map((s) => s.leads)).toEqual([2, 2, 2]);
    });

    it('after a crash between insert and checkpoint, the rerun from the older checkpoint does not double count', async () => {
      await append(store, journey('L1', 'b1', 'ads', 0), 'a');
      await syncTouchpoints(store, client);
      const checkpoint = await readSinkCheckpoint(client);
      await append(store, journey('L2', 'b2', 'seo', 5), 'b');
      // the crash: the next batch reached ClickHouse, its checkpoint did not
      await applyTouchpointBatch(client, await store.readAll({ after: checkpoint }));
      expect(await readSinkCheckpoint(client)).toBe(checkpoint);
      const rerun = await syncTouchpoints(store, client);
      expect(rerun.from).toBe(checkpoint);
      const { counts, leads, reference } = await answers();
      expect(counts.steps.map(({ type: _t, ...s }) => s)).toEqual(reference.steps);
      expect(leads.leads.map((l) => [l.leadId, l.reachedSteps])).toEqual([
        ['L1', 3],
        ['L2', 3],
      ]);
    });

    it('a later identity link hands anonymous history already in ClickHouse to the lead; a second link moves nothing', async () => {
      await append(store, [{ type: 'visit', at: min(0), anon: 'b1', source: 'ads' }, { type: 'visit', at: min(1), anon: 'b1' }], 'a');
      await syncTouchpoints(store, client);
      expect((await listFunnelLeads(client, funnel, { stepIndex: 0 })).leads).toEqual([
        { unitId: 'anon~b1', leadId: null, anonymousId: 'b1', accountId: null, reachedSteps: 1, breakdownValue: 'ads', enteredAt: new Date(min(0)).toISOString() },
      ]);
      await append(store, [{ type: 'form_submit', at: min(2), anon: 'b1', lead: 'L1', properties: { formId: 'f' } }], 'b');
      await append(store, [{ type: 'form_submit', at: min(3), anon: 'b1', lead: 'L2', properties: { formId: 'f' } }], 'c');
      await syncTouchpoints(store, client);
      const { counts, leads, reference } = await answers();
      expect(leads.leads.map((l) => [l.leadId, l.anonymousId, l.reachedSteps, l.breakdownValue])).toEqual([['L1', null, 2, 'ads']]);
      expect(counts.steps.map(({ type: _t, ...s }) => s)).toEqual(reference.steps);
      const owners = await client.rows<{ anonymous_id: string; lead_id: string }>('SELECT anonymous_id, lead_id FROM identity_owners');
      expect(owners).toEqual([{ anonymous_id: 'b1', lead_id: 'L1' }]);
    });

    it('the live sink catches up from its checkpoint and follows new appends', async () => {
      await append(store, journey('L1', 'b1', 'ads', 0), 'a');
      await syncTouchpoints(store, client);
      const sink = await runTouchpointSink(store, client, { batchSize: 2 });
      try {
        await append(store, journey('L2', 'b2', 'seo', 5), 'b');
        await sink.caughtUp();
        expect(sink.position).toBe(await store.headPosition());
        expect(await readSinkCheckpoint(client)).toBe(await store.headPosition());
        const { counts, reference } = await answers();
        expect(counts.steps.map(({ type: _t, ...s }) => s)).toEqual(reference.steps);
      } finally {
        await sink.stop();
      }
    });

    // each batch the Node way, then the bulk way (sink-bulk.ts: chDB builds the rows of the plain events)
    it.each([{ path: 'Node', bulk: false as const }, { path: 'bulk', bulk: { from: 1 } }])('given events it cannot write (no occurredAt, an offset no zone has, a lone surrogate) put into the log past the API, then each is parked with its reason and every event after them still reaches ClickHouse ($path path)', async ({ bulk }) => {
      await append(store, journey('L1', 'b1', 'ads', 0), 'a');
      await syncTouchpoints(store, client);
      const visit = (id: string, data: Record<string, unknown>) => store.append({ streamId: anonymousStream('b9'), events: [{ id, type: 'visit', data: { occurredAt: new Date(min(50)).toISOString(), anonymousId: 'b9', ...data } }] });
      await visit('ok-1', {});
      await visit('bad-1', { occurredAt: undefined });
      await visit('bad-2', { occurredAt: '2026-03-01T10:00:00+24:00' });
      await visit('bad-3', { source: 'ads\ud800x' });
      await visit('ok-2', {});
      const parked: string[] = [];
      const sink = await runTouchpointSink(store, client, { batchSize: 10, bulk, onParked: (p) => parked.push(p.item.id) });
      try {
        await sink.caughtUp();
        expect(sink.position).toBe(await store.headPosition());
      } finally {
        await sink.stop();
      }
      const rows = await client.rows<{ event_id: string }>('SELECT event_id FROM touchpoints FINAL WHERE anonymous_id = {anon:String} ORDER BY event_id', { anon: 'b9' });
      expect(rows.map((r) => r.event_id)).toEqual(['ok-1', 'ok-2']);
      const listed = await parkedInClickHouse(client, DEFAULT_SINK_NAME);
      expect(listed.map((p) => p.itemId)).toEqual(['bad-1', 'bad-2', 'bad-3']);
      expect(parked).toEqual(['bad-1', 'bad-2', 'bad-3']);
      expect(listed.map((p) => p.reason)).toEqual([expect.stringMatching(/has no occurredAt/), expect.stringMatching(/not an ISO 8601 instant/), expect.stringMatching(/surrogate/)]);
      expect(await readSinkCheckpoint(client)).toBe(await store.headPosition());
    });
  });
}
