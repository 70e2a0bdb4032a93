import { appendAll, demoRules, describeReadModelsContract, eventsFor, isoAt, projectIntoSqlite } from '@sluice/projector/contract';
import { dropSchema, resolvePostgres, uniqueSchemaName } from '@sluice/testkit';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresReadModels } from './read-models.js';
import { REPLICATOR_NAME, ReadModelsPartitionError, startReadModelReplicator } from './replicator.js';

const postgres = await resolvePostgres();
const skipReason = 'skip' in postgres ? postgres.skip : undefined;
if (skipReason) console.warn(`PostgreSQL read-model tests skipped: ${skipReason}`);
const url = 'url' in postgres ? postgres.url : '';
// one schema for this file: each case projects a new build, which the replicator copies in place of the last
const schema = uniqueSchemaName('read_models_contract');
afterAll(async () => {
  if (skipReason) return;
  await dropSchema(url, schema);
  if ('stop' in postgres) await postgres.stop();
});

/** A TCP relay to the PostgreSQL server that can be cut (every connection dropped, new ones refused) and restored on the same port: the server away, for real. */
async function relayTo(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server!.address() as { port: number }).port));
    });
  const port = await listen(0);
  const url = new URL(target.href);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.href,
    cut: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server!.close(() => resolve());
      }),
    restore: () => listen(port),
  };
}

describe.skipIf(skipReason)('PostgreSQL read models', () => {
  // the real projector into SQLite, the replicator into PostgreSQL, answers through the PostgreSQL adapter only
  describeReadModelsContract('PostgreSQL (replicated)', async (write, rules) => {
    const log = await projectIntoSqlite(write, rules);
    const replicator = startReadModelReplicator({ projections: log.projections, connectionString: url, schema, pollIntervalMs: 20 });
    await replicator.caughtUp();
    const readModels = await openPostgresReadModels({ connectionString: url, schema, store: log.store, rules });
    return {
      readModels,
      async append(more) {
        await log.append(more);
        await replicator.caughtUp();
      },
      async close() {
        await readModels.close();
        await replicator.stop();
        await log.close();
      },
    };
  });

  it('given a projector partition of several, when a replicator is started, then it is refused naming the flag and what to do', () => {
    expect(() => startReadModelReplicator({ projections: undefined as never, connectionString: url, schema, partition: { index: 1, count: 4 } })).toThrow(ReadModelsPartitionError);
    expect(() => startReadModelReplicator({ projections: undefined as never, connectionString: url, schema, partition: { index: 1, count: 4 } })).toThrow(/--partitions 1\/4/);
  });

  it('given a subject PostgreSQL cannot hold (text with U+0000), when replicated, then that subject is parked with the reason and every other one is copied', async () => {
    const rules = demoRules();
    const ownSchema = uniqueSchemaName('read_models_parked');
    // the log takes what the API would refuse: written straight to the store, as an old import might have
    const log = await projectIntoSqlite(async (store) => {
      await appendAll(store, [eventsFor({ leadId: 'OK1' }, 'OK1')('form_submit', isoAt(0), { formId: 'f' })]);
      await store.append({
        streamId: 'lead-NUL1',
        events: [{ id: 'nul-1', type: 'owner_assigned', data: { id: 'nul-1', type: 'owner_assigned', leadId: 'NUL1', occurredAt: isoAt(1), properties: { ownerId: 'rep\u0000x' } } }],
      });
      await appendAll(store, [eventsFor({ leadId: 'OK2' }, 'OK2')('form_submit', isoAt(2), { formId: 'f' })]);
    }, rules);
    const parked: number[] = [];
    const replicator = startReadModelReplicator({ projections: log.projections, connectionString: url, schema: ownSchema, pollIntervalMs: 20, onParked: (p) => parked.push(p.position) });
    const readModels = await openPostgresReadModels({ connectionString: url, schema: ownSchema, store: log.store, rules });
    try {
      await replicator.caughtUp();
      expect(log.projections.db.prepare("SELECT owner FROM leads WHERE subject = 'lead-NUL1'").pluck().get()).toBe('rep\u0000x');
      expect((await readModels.listLeads()).items.map((l) => l.id)).toEqual(['OK2', 'OK1']);
      const head = await readModels.head();
      expect(head.position).toBe(log.projections.state().position);
      expect(parked).toEqual([head.position]);
      const refused = await readModels.parked(REPLICATOR_NAME);
      expect(refused.map(({ parkedAt: _, reason, ...r }) => ({ ...r, reason: reason.length > 0 }))).toEqual([
        { follower: REPLICATOR_NAME, position: head.position, itemId: 'lead-NUL1', itemType: 'subject', reason: true },
      ]);
      expect(await readModels.parked()).toEqual(refused);
    } finally {
      await readModels.close();
      await replicator.stop();
      await log.close();
      await dropSchema(url, ownSchema);
    }
  });

  it('given PostgreSQL away while events arrive, then the replicator retries saying why, and catches up once it answers again, without a restart', async () => {
    const rules = demoRules();
    const ownSchema = uniqueSchemaName('read_models_away');
    const relay = await relayTo(new URL(url));
    const log = await projectIntoSqlite((store) => appendAll(store, [eventsFor({ leadId: 'A1' }, 'A1')('form_submit', isoAt(0), { formId: 'f' })]), rules);
    let retried!: (reason: string) => void;
    const firstRetry = new Promise<string>((resolve) => (retried = resolve));
    const replicator = startReadModelReplicator({
      projections: log.projections,
      connectionString: relay.url,
      schema: ownSchema,
      pollIntervalMs: 20,
      retry: { initialMs: 20, maxMs: 200 },
      onRetry: (failure) => retried(failure.reason),
    });
    const readModels = await openPostgresReadModels({ connectionString: url, schema: ownSchema, store: log.store, rules });
    try {
      await replicator.caughtUp();
      await relay.cut();
      await log.append((store) => appendAll(store, [eventsFor({ leadId: 'A2' }, 'A2')('form_submit', isoAt(1), { formId: 'f' })]));
      expect(await firstRetry).toMatch(/ECONNREFUSED|connect|Connection terminated/i);
      expect(replicator.status()).toMatchObject({ state: 'retrying', failure: { reason: expect.any(String) } });
      // the copy still answers, as of where it stood
      expect((await readModels.listLeads()).items.map((l) => l.id)).toEqual(['A1']);
      await relay.restore();
      await replicator.caughtUp();
      expect((await readModels.listLeads()).items.map((l) => l.id)).toEqual(['A2', 'A1']);
      expect(await readModels.head()).toMatchObject({ position: log.projections.state().position });
    } finally {
      await readModels.close();
      await replicator.stop();
      await log.close();
      await dropSchema(url, ownSchema);
    }
  });
});
