/**
 * Quick local measurement (not a test): appendMany throughput of the SQLite
 * adapter against a raw better-sqlite3 insert of the same rows into the same
 * schema with the same pragmas (WAL, synchronous=FULL, one transaction per
 * batch). The raw side precomputes revisions in a Map, so it does no lookups:
 * the ratio is the cost of idempotency, revision checks and the port. Both
 * sides open the file through the adapter's own openConnection.
 *
 *   node --import tsx packages/event-store/scripts/measure-append-throughput.ts [batches] [batchSize] [--memory]
 *
 * --memory runs both sides on ':memory:' databases: no disk, so the ratio shows
 * the adapter's CPU overhead alone (on a file, commit I/O dominates both sides).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AppendRequest, NewEvent } from '../src/port.js';
import { openConnection } from '../src/sqlite/connection.js';
import { openSqliteEventStore } from '../src/sqlite/sqlite-event-store.js';

const inMemory = process.argv.includes('--memory');
const [batchesArg, batchSizeArg] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const batches = Number(batchesArg ?? 200);
const batchSize = Number(batchSizeArg ?? 1000);
const leadPool = 20_000;

interface Touchpoint {
  leadId: string;
  event: NewEvent;
}

/** Touchpoint-sized events (~300 bytes of JSON each) spread over a pool of leads (seeded, ids aside). */
function makeBatches(): Touchpoint[][] {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: batches }, () =>
    Array.from({ length: batchSize }, () => {
      const leadId = `lead-${next() % leadPool}`;
      // Producers send random UUIDs: the worst case for the unique id index.
      const id = randomUUID();
      return {
        leadId,
        event: {
          id,
          type: 'visit',
          data: {
            id,
            type: 'visit',
            occurredAt: '2026-03-01T10:00:00+08:00',
            leadId,
            source: 'google',
            channel: 'paid_search',
            campaign: 'spring-launch-2026',
            properties: { url: '/pricing?plan=team', referrer: 'https://www.google.com/', landingPage: '/pricing' },
          },
        },
      };
    }),
  );
}

/** One request per lead, input order kept within a lead, as the ingest path groups a batch. */
function toRequests(batch: readonly Touchpoint[]): AppendRequest[] {
  const byLead = new Map<string, NewEvent[]>();
  for (const { leadId, event } of batch) {
    const events = byLead.get(leadId);
    if (events) events.push(event);
    else byLead.set(leadId, [event]);
  }
  return [...byLead].map(([streamId, events]) => ({ streamId, events }));
}

async function measurePort(path: string, requestBatches: AppendRequest[][]): Promise<number> {
  const store = await openSqliteEventStore({ path });
  const started = process.hrtime.bigint();
  for (const requests of requestBatches) await store.appendMany(requests);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await store.close();
  return (batches * batchSize) / seconds;
}

function measureRaw(path: string, requestBatches: AppendRequest[][]): number {
  const db = openConnection({ path, busyTimeoutMs: 5000 });
  const insert = db.prepare(
    'INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const revisions = new Map<string, number>();
  const insertBatch = db.transaction((requests: AppendRequest[]) => {
    const recordedAt = new Date().toISOString();
    for (const { streamId, events } of requests) {
      let revision = revisions.get(streamId) ?? 0;
      for (const event of events) {
        insert.run(streamId, revision++, event.id, event.type, JSON.stringify(event.data), null, recordedAt);
      }
      revisions.set(streamId, revision);
    }
  });
  const started = process.hrtime.bigint();
  for (const requests of requestBatches) insertBatch.immediate(requests);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  return (batches * batchSize) / seconds;
}

const requestBatches = makeBatches().map(toRequests);
const requestsPerBatch = requestBatches.reduce((n, b) => n + b.length, 0) / batches;
const dir = mkdtempSync(join(tmpdir(), 'sluice-append-bench-'));
try {
  const rounds = 3;
  const port: number[] = [];
  const raw: number[] = [];
  // Alternate so neither side gets all the warm caches.
  for (let round = 0; round < rounds; round++) {
    raw.push(measureRaw(inMemory ? ':memory:' : join(dir, `raw-${round}.db`), requestBatches));
    port.push(await measurePort(inMemory ? ':memory:' : join(dir, `port-${round}.db`), requestBatches));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fmt = (x: number) => `${Math.round(x).toLocaleString('en-US')} events/s`;
  console.log(
    `${batches} batches x ${batchSize} events, ~${Math.round(requestsPerBatch)} streams per batch, ` +
      `${inMemory ? ':memory:' : 'file'}, ${rounds} rounds (median)`,
  );
  console.log(`raw better-sqlite3 insert: ${fmt(median(raw))}   [${raw.map(fmt).join(', ')}]`);
  console.log(`EventStore.appendMany:     ${fmt(median(port))}   [${port.map(fmt).join(', ')}]`);
  console.log(`ratio: ${(median(port) / median(raw)).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
