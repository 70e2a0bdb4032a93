import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '@sluice/event-store';
import { openSqliteEventStore } from '@sluice/event-store';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { parkedInClickHouse } from './parked.js';
import { DEFAULT_SINK_NAME, readSinkCheckpoint, syncTouchpoints } from './sink.js';
import { insertEventsInBulk, stagingTable } from './sink-bulk.js';
import { testBackends } from './test-backends.js';

/**
 * The touchpoint sink's bulk path (chDB building the rows from the log's
 * text, sink-bulk.ts) against its Node path: the same log gives the same
 * rows, the same parked events and the same checkpoint, whatever the events
 * hold (plain ones the SQL builds, and every kind it must leave to Node).
 */

/** every batch the bulk way, and several batches */
const BULK = { bulk: { from: 1 }, batchSize: 7 };

/** Every column of both tables, the map as its keys and values in order (a map with a key twice would show) and the parked events. */
async function snapshot(client: AnalyticsClient) {
  const touchpoints = await client.rows(
    `SELECT position, event_id, stream_id, type, lead_id, anonymous_id, account_id, toString(occurred_at) AS occurred_at, toString(recorded_at) AS recorded_at,
       source, channel, campaign, properties, mapKeys(props) AS keys, mapValues(props) AS values
     FROM touchpoints FINAL ORDER BY position`,
  );
  const links = await client.rows('SELECT anonymous_id, lead_id, position, event_id, toString(occurred_at) AS occurred_at FROM identity_links FINAL ORDER BY position');
  const parked = (await parkedInClickHouse(client, DEFAULT_SINK_NAME)).map((p) => [p.position, p.itemId, p.reason]);
  return { touchpoints, links, parked, checkpoint: await readSinkCheckpoint(client) };
}

async function emptyAll(client: AnalyticsClient) {
  for (const table of ['touchpoints', 'identity_links', 'sink_checkpoints', 'parked_events']) await client.command(`TRUNCATE TABLE ${table}`);
}

// odd text: the keys and values the SQL must either build exactly or leave to Node
const oddText = fc.constantFrom('', 'a.b', '__proto__', '1', '01', 'x"y', 'back\\slash', 'é', '😀', '\u2028', 'tab\t', 'lone\ud800', 'utm');
const text = fc.oneof(fc.string({ maxLength: 6 }), oddText);
const scalar = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(-0, 1e21, 0.1, 123456789012345, 1234567890123456, 1.5));
const nested = fc.dictionary(text, fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), fc.dictionary(text, scalar, { maxKeys: 2 })), { maxKeys: 3 });
const properties = fc.oneof(fc.constant(undefined), fc.constant(null), text, fc.integer(), fc.dictionary(text, fc.oneof(scalar, scalar, nested), { maxKeys: 4 }));
const instant = fc.date({ min: new Date('1850-01-01T00:00:00Z'), max: new Date('2350-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
const occurredAt = fc.oneof(
  instant,
  fc.tuple(instant, fc.constantFrom('+05:30', '-03:00', '+00:00', '+14:00', '-12:00')).map(([iso, offset]) => iso.replace('Z', offset)),
  instant.map((iso) => iso.replace(/\.\d{3}/, '')),
  fc.constantFrom('2025-02-30T10:00:00Z', '2026-03-01T10:00:00+24:00', '2026-03-01T10:00:00.5+01:00', '2026-03-01T24:00:00Z', '2026-03-01 10:00:00Z', '2026-03-01T10:00:00', 'nonsense', '+020000-01-01T00:00:00Z'),
  fc.integer(),
  fc.constant(undefined),
);
const envelopeString = fc.oneof(fc.constant(undefined), fc.constant(null), text, text, fc.integer(), fc.boolean());
const eventArb = fc.record({
  type: fc.constantFrom('visit', 'page_view', 'form_submit', 'identity_linked'),
  occurredAt,
  leadId: envelopeString,
  anonymousId: envelopeString,
  accountId: envelopeString,
  source: envelopeString,
  channel: envelopeString,
  campaign: envelopeString,
  properties,
});

for (const backend of testBackends()) {
  // the bulk path is embedded chDB's (its staging table is a Memory table of this process)
  describe.skipIf(backend.skip ?? (backend.name === 'chdb' ? undefined : 'the bulk path is embedded chDB only'))(`touchpoint sink, bulk path from the log file (${backend.name})`, () => {
    let client: AnalyticsClient;
    let dir: string;
    let store: EventStore;
    let stores = 0;
    beforeAll(async () => {
      client = await backend.open();
    });
    beforeEach(async () => {
      await emptyAll(client);
      dir = mkdtempSync(join(tmpdir(), 'sluice-sink-file-'));
      store = await openSqliteEventStore({ path: join(dir, `events-${(stores += 1)}.db`) });
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    afterAll(() => backend.close());

    /** Each generated event, then a plain visit (so the engine never sees many refusals in a row and takes the target for broken). */
    async function appendAll(events: readonly Record<string, unknown>[]) {
      for (const [i, data] of events.entries()) {
        // ids and stream ids with what TabSeparated must escape
        const id = `e${i}${['', '\t\\', '\n'][i % 3]}`;
        await store.append({ streamId: `s-${i % 3}${i % 2 === 0 ? '\t' : ''}`, events: [{ id, type: String(data.type), data: { id, ...data } }] });
        await store.append({ streamId: 'plain', events: [{ id: `${id}-plain`, type: 'visit', data: { id: `${id}-plain`, type: 'visit', occurredAt: '2026-03-01T10:00:00+01:00', anonymousId: 'p', properties: { n: i } } }] });
      }
    }

    it('given any events, bulk and Node paths write the same rows, park the same events with the same reasons and end at the head', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 30 }), async (events) => {
          // a log of its own for each run
          await store.close();
          store = await openSqliteEventStore({ path: join(dir, `events-${(stores += 1)}.db`) });
          await appendAll(events);
          await emptyAll(client);
          await syncTouchpoints(store, client, BULK);
          const bulk = await snapshot(client);
          await emptyAll(client);
          await syncTouchpoints(store, client, { bulk: false });
          const node = await snapshot(client);
          expect(bulk).toEqual(node);
          expect(node.checkpoint).toBe(await store.headPosition());
        }),
        { numRuns: 6 },
      );
    });

    it('given plain events only, the bulk path writes every row itself and the rows equal the Node path', async () => {
      for (let i = 0; i < 30; i++) {
        const data = { id: `v${i}`, type: 'visit', occurredAt: `2026-03-0${1 + (i % 9)}T10:00:0${i % 10}.${String(i).padStart(3, '0')}+02:00`, anonymousId: `a${i % 4}`, ...(i % 5 === 0 ? { leadId: `L${i}` } : {}), source: 'ads', properties: { url: `/p/${i}`, n: i, ok: i % 2 === 0, bant: { need: true, score: i } } };
        await store.append({ streamId: `anon-${i % 4}`, events: [{ id: data.id, type: 'visit', data }] });
      }
      await store.append({ streamId: 'anon-0', events: [{ id: 'link', type: 'identity_linked', data: { id: 'link', type: 'identity_linked', occurredAt: '2026-03-02T10:00:00Z', anonymousId: 'a0', leadId: 'L0' } }] });
      // chDB builds them all: none left to Node
      expect(await insertEventsInBulk(client, stagingTable('plain'), await store.readAllText!())).toEqual([]);
      await emptyAll(client);
      await syncTouchpoints(store, client, BULK);
      const bulk = await snapshot(client);
      expect(bulk.touchpoints).toHaveLength(30);
      expect(bulk.links).toEqual([{ anonymous_id: 'a0', lead_id: 'L0', position: 31, event_id: 'link', occurred_at: '2026-03-02 10:00:00.000' }]);
      expect(bulk.touchpoints[3]).toMatchObject({ occurred_at: '2026-03-04 08:00:03.003', keys: ['url', 'n', 'ok', 'bant.need', 'bant.score'], values: ['/p/3', '3', 'false', 'true', '3'] });
      await emptyAll(client);
      await syncTouchpoints(store, client, { bulk: false });
      expect(await snapshot(client)).toEqual(bulk);
    });
  });
}
