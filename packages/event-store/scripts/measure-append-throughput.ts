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
import type { AppendRequest } from '../src/port.js';
import { openConnection } from '../src/sqlite/connection.js';
import { openSqliteEventStore } from '../src/sqlite/sqlite-event-store.js';
import { formatRate as fmt, makeRequestBatches, median } from './append-workload.js';

const inMemory = process.argv.includes('--memory');
const [batchesArg, batchSizeArg] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const batches = Number(batchesArg ?? 200);
const batchSize = Number(batchSizeArg ?? 1000);

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

const requestBatches = makeRequestBatches(batches, batchSize);
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
