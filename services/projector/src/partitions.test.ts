import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore } from '@sluice/event-store';
import { openPostgresEventStore } from '@sluice/event-store-postgres';
import { loadConfig } from '@sluice/config';
import { type ProjectionStore, openProjectionStore, rebuild } from '@sluice/projector';
import { dropSchema, resolvePostgres, uniqueSchemaName } from '@sluice/testkit';
import pg from 'pg';
import { appendAll, childSkipReason, demoEvents, tempDir } from '../../../packages/projector/src/test-support.js';
import { eventually } from '../../kafka-bridge/src/test-support.js';
import { leadPartition } from '@sluice/app';
import { type Running, settled, spawnProjectorProcess, startProjectorProcess, stopProcess, writeProjectorConfig } from './test-support.js';

/*
 * Scale-out: two projector processes, --partitions 0/2 and 1/2, over one
 * PostgreSQL log, and a standby for 0/2. Each instance holds its leads and no
 * other's; together they hold every lead exactly as a single projector would.
 * SIGKILL the holder of 0/2: the standby is granted the partition only after
 * the lease runs out, projects it from the log, and the leads are again all
 * there, once, with the values of a clean rebuild.
 */

const postgres = await resolvePostgres();
const skip = [childSkipReason, 'skip' in postgres ? postgres.skip : undefined].filter(Boolean).join('; ') || undefined;
if (skip) console.warn(`projector partition tests skipped: ${skip}`);
afterAll(async () => {
  if ('stop' in postgres) await postgres.stop();
});

type LeadRows = Map<string, string>;

/** The lead rows (every column) of a read-model file, by subject; anonymous subjects apart. */
function rowsOf(projections: ProjectionStore): { leads: LeadRows; anonymous: LeadRows } {
  const leads: LeadRows = new Map();
  const anonymous: LeadRows = new Map();
  for (const row of projections.db.prepare('SELECT * FROM leads ORDER BY subject').all() as { subject: string; kind: string; config_version: string }[]) {
    (row.kind === 'lead' ? leads : anonymous).set(row.subject, JSON.stringify(row));
  }
  return { leads, anonymous };
}

const LEASE_SECONDS = 2;

describe.skipIf(skip)('projector instances sharing the leads by partition', () => {
  const url = 'url' in postgres ? postgres.url : '';

  it('each instance projects only its partition, together every lead once; a SIGKILLed instance is replaced by a standby after its lease runs out', async () => {
    const dirs = ['a', 'b', 'standby'].map((name) => tempDir(`sluice-partition-${name}-`));
    const [a, b, standby] = dirs as [ReturnType<typeof tempDir>, ReturnType<typeof tempDir>, ReturnType<typeof tempDir>];
    const schema = uniqueSchemaName('projector_parts');
    const store: EventStore = await openPostgresEventStore({ connectionString: url, schema, pollIntervalMs: 50 });
    for (const dir of dirs) writeProjectorConfig(dir.path('sluice.json'), { dataDir: dir.dir, url, schema, leaseSeconds: LEASE_SECONDS });
    const children: Running[] = [];
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const leaseOf = async (partition: string) =>
      (await db.query<{ owner: string; expires_at: Date }>(`SELECT owner, expires_at FROM ${schema}.projector_leases WHERE partition = $1`, [partition])).rows[0]!;
    try {
      const events = demoEvents(8000);
      const half = Math.floor(events.length / 2);
      await appendAll(store, events.slice(0, half));
      const first = await startProjectorProcess(a.path('sluice.json'), ['--partitions', '0/2']);
      const second = await startProjectorProcess(b.path('sluice.json'), ['--partitions', '1/2']);
      children.push(first, second);
      const spare = spawnProjectorProcess(standby.path('sluice.json'), ['--partitions', '0/2']);
      children.push(spare);
      await eventually(async () => (spare.output().includes('standing by') ? true : undefined));
      const head = await store.headPosition();
      for (const instance of [first, second]) await eventually(async () => ((h) => (settled(h) && h.head === head ? h : undefined))(await instance.health()));

      const reference = openProjectionStore(':memory:');
      await rebuild({ store, projections: reference, config: loadConfig({ file: a.path('sluice.json'), env: {} }) });
      let expected = rowsOf(reference);
      expect(expected.leads.size).toBeGreaterThan(10);
      const check = (parts: [ProjectionStore, ProjectionStore]) => {
        const [zero, one] = parts.map(rowsOf) as [ReturnType<typeof rowsOf>, ReturnType<typeof rowsOf>];
        for (const [subject] of zero.leads) expect(leadPartition(subject.replace(/^lead-/, ''), 2), subject).toBe(0);
        for (const [subject] of one.leads) expect(leadPartition(subject.replace(/^lead-/, ''), 2), subject).toBe(1);
        // disjoint, and together exactly the single projector's leads, row for row
        expect([...zero.leads.keys()].filter((s) => one.leads.has(s))).toEqual([]);
        expect(new Map([...zero.leads, ...one.leads])).toEqual(expected.leads);
        // every instance keeps every visitor (a lead's owner absorbs the history at the link)
        expect(zero.anonymous).toEqual(expected.anonymous);
        expect(one.anonymous).toEqual(expected.anonymous);
      };
      const withFiles = (files: [string, string], body: (parts: [ProjectionStore, ProjectionStore]) => void) => {
        const parts = files.map((f) => openProjectionStore(f)) as [ProjectionStore, ProjectionStore];
        try {
          body(parts);
        } finally {
          for (const p of parts) p.close();
        }
      };
      withFiles([a.path('projections-p0of2.sqlite'), b.path('projections-p1of2.sqlite')], check);
      const held = await leaseOf('0/2');
      expect(held.owner).toMatch(new RegExp(`:${first.child.pid}$`));

      // kill the holder of 0/2 mid-stream: the standby is granted it only after the lease the database stored has run out
      const rest = appendAll(store, events.slice(half), 100);
      await stopProcess(first.child, 'SIGKILL');
      const killedLeaseEnd = (await leaseOf('0/2')).expires_at.getTime();
      await rest;
      const taken = await spare.ready;
      const takenLease = await leaseOf('0/2');
      expect(takenLease.owner).toMatch(new RegExp(`:${spare.child.pid}$`));
      // renewals move expires_at on by the lease's length; the first grant could not be before the killed lease ended
      expect(takenLease.expires_at.getTime() - LEASE_SECONDS * 1000).toBeGreaterThanOrEqual(killedLeaseEnd);
      const finalHead = await store.headPosition();
      for (const instance of [taken, second]) await eventually(async () => ((h) => (settled(h) && h.head === finalHead ? h : undefined))(await instance.health()));
      for (const instance of [taken, second]) expect(await stopProcess(instance.child, 'SIGTERM')).toBe(0);

      // rebuild empties the reference first
      await rebuild({ store, projections: reference, config: loadConfig({ file: a.path('sluice.json'), env: {} }) });
      expected = rowsOf(reference);
      reference.close();
      withFiles([standby.path('projections-p0of2.sqlite'), b.path('projections-p1of2.sqlite')], check);
    } finally {
      for (const c of children) await stopProcess(c.child, 'SIGKILL');
      await db.end();
      await store.close();
      await dropSchema(url, schema);
      for (const dir of dirs) dir.remove();
    }
  });
});
