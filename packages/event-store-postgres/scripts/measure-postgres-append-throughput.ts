/**
 * Quick local measurement (not a test): appendMany throughput of the
 * PostgreSQL adapter on the workload of
 * packages/event-store/scripts/measure-append-throughput.ts, next to
 *
 * - the SQLite adapter on a file (WAL, synchronous=FULL): the embedded default
 *   the PostgreSQL adapter should stay in the same league as;
 * - a raw insert of the same rows into the adapter's own table, one
 *   transaction and one unnest INSERT per batch, revisions precomputed, no
 *   lock and no lookups: the server's floor, so the ratio is the cost of the
 *   lock, the idempotency and revision lookups and the port;
 * - several store instances on one schema appending at once, batches dealt
 *   round-robin, as several processes (kafka-bridge consumers) would: the
 *   append lock serialises them (see src/append.ts), so this shows
 *   what concurrent writers cost or gain. (Within one instance, concurrent
 *   calls share a group commit instead.)
 *
 *   node --import tsx packages/event-store-postgres/scripts/measure-postgres-append-throughput.ts [batches] [batchSize] [instances]
 *
 * The server comes from the test kit (SLUICE_TEST_POSTGRES_URL / DATABASE_URL,
 * else a container where Docker answers, else the local one); every run uses
 * its own schema and drops it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, resolvePostgres, uniqueSchemaName } from '@sluice/testkit';
import pg from 'pg';
import { openSqliteEventStore } from '@sluice/event-store';
import type { AppendRequest, EventStore } from '@sluice/event-store';
// the workload of the SQLite measurement, so the two compare like for like
import { formatRate as fmt, makeRequestBatches, median } from '../../event-store/scripts/append-workload.js';
import { openPostgresEventStore } from '../src/postgres-event-store.js';
import { storeObjects } from '../src/schema.js';

const [batchesArg, batchSizeArg, instancesArg] = process.argv.slice(2);
const batches = Number(batchesArg ?? 100);
const batchSize = Number(batchSizeArg ?? 1000);
const instances = Number(instancesArg ?? 4);
const rounds = 3;

const postgres = await resolvePostgres();
if ('skip' in postgres) {
  console.error(`no PostgreSQL to measure against: ${postgres.skip}`);
  process.exit(1);
}
const { url } = postgres;

/** Events per second for appending every batch, one batch in flight per store, batches dealt round-robin. */
async function timeAppends(stores: readonly EventStore[], requestBatches: AppendRequest[][]): Promise<number> {
  const started = process.hrtime.bigint();
  await Promise.all(
    stores.map(async (store, writer) => {
      for (let i = writer; i < requestBatches.length; i += stores.length) await store.appendMany(requestBatches[i]!);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return (batches * batchSize) / seconds;
}

async function measureSqlite(dir: string, round: number, requestBatches: AppendRequest[][]): Promise<number> {
  const store = await openSqliteEventStore({ path: join(dir, `sqlite-${round}.db`) });
  try {
    return await timeAppends([store], requestBatches);
  } finally {
    await store.close();
  }
}

async function measurePostgres(requestBatches: AppendRequest[][], instances: number): Promise<number> {
  const schema = uniqueSchemaName('append_bench');
  const stores: EventStore[] = [];
  try {
    for (let i = 0; i < instances; i++) stores.push(await openPostgresEventStore({ connectionString: url, schema }));
    return await timeAppends(stores, requestBatches);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
    await dropSchema(url, schema);
  }
}

async function measureRawPostgres(requestBatches: AppendRequest[][]): Promise<number> {
  const schema = uniqueSchemaName('append_bench_raw');
  // The adapter creates the table; the raw side then writes to it directly.
  await (await openPostgresEventStore({ connectionString: url, schema })).close();
  const { events, positions } = storeObjects(schema);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const revisions = new Map<string, number>();
    const started = process.hrtime.bigint();
    for (const requests of requestBatches) {
      const rows = requests.flatMap(({ streamId, events: batch }) => {
        let revision = revisions.get(streamId) ?? 0;
        const streamRows = batch.map((event) => ({ streamId, revision: revision++, event }));
        revisions.set(streamId, revision);
        return streamRows;
      });
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ${events} (position, stream_id, revision, event_id, type, data, recorded_at)
         SELECT nextval($6::regclass), stream_id, revision, event_id, type, data, statement_timestamp()
           FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::json[])
             AS r(stream_id, revision, event_id, type, data)`,
        [
          rows.map((row) => row.streamId),
          rows.map((row) => row.revision),
          rows.map((row) => row.event.id),
          rows.map((row) => row.event.type),
          rows.map((row) => JSON.stringify(row.event.data)),
          positions,
        ],
      );
      await client.query('COMMIT');
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return (batches * batchSize) / seconds;
  } finally {
    await client.end();
    await dropSchema(url, schema);
  }
}

const requestBatches = makeRequestBatches(batches, batchSize);
const streamsPerBatch = requestBatches.reduce((n, b) => n + b.length, 0) / batches;
const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-append-bench-'));
try {
  const results = { sqlite: [] as number[], raw: [] as number[], adapter: [] as number[], concurrent: [] as number[] };
  // Alternate so no side gets all the warm caches.
  for (let round = 0; round < rounds; round++) {
    results.sqlite.push(await measureSqlite(dir, round, requestBatches));
    results.raw.push(await measureRawPostgres(requestBatches));
    results.adapter.push(await measurePostgres(requestBatches, 1));
    results.concurrent.push(await measurePostgres(requestBatches, instances));
  }
  const line = (label: string, xs: number[]) => console.log(`${label.padEnd(36)} ${fmt(median(xs))}   [${xs.map(fmt).join(', ')}]`);
  console.log(
    `${batches} batches x ${batchSize} events, ~${Math.round(streamsPerBatch)} streams per batch, ${rounds} rounds (median), ${url.replace(/\/\/[^@]*@/, '//')}`,
  );
  line('SQLite adapter (file, 1 writer)', results.sqlite);
  line('raw PostgreSQL insert (1 writer)', results.raw);
  line('PostgreSQL adapter (1 writer)', results.adapter);
  line(`PostgreSQL adapter (${instances} instances)`, results.concurrent);
  console.log(
    `PostgreSQL adapter / SQLite adapter: ${(median(results.adapter) / median(results.sqlite)).toFixed(2)}x; ` +
      `/ raw PostgreSQL: ${(median(results.adapter) / median(results.raw)).toFixed(2)}x`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  if ('stop' in postgres) await postgres.stop();
}
