import { afterAll, describe, expect, it } from 'vitest';
import { createAnalyticsClient } from '@sluice/analytics';
import { loadConfig } from '@sluice/config';
import type { EventStore } from '@sluice/event-store';
import { openPostgresEventStore } from '@sluice/event-store-postgres';
import { contentHash, openProjectionStore, rebuild } from '@sluice/projector';
import { dropSchema, resolvePostgres, uniqueSchemaName } from '@sluice/testkit';
import { appendAll, childSkipReason, demoEvents, tempDir } from '../../../packages/projector/src/test-support.js';
import { eventually } from '../../kafka-bridge/src/test-support.js';
import { settled, startProjectorProcess, stopProcess, writeProjectorConfig } from './test-support.js';

/*
 * The projector process as operators run it (a child process started from a
 * config file) against the local PostgreSQL store and chDB: it catches up
 * with the log into its read models and ClickHouse, SIGTERM leaves a
 * checkpoint, and a restart resumes from it: the read models then hash equal
 * to a clean rebuild of the whole log and ClickHouse holds every touchpoint
 * once.
 */

const postgres = await resolvePostgres();
const skip = [childSkipReason, 'skip' in postgres ? postgres.skip : undefined].filter(Boolean).join('; ') || undefined;
if (skip) console.warn(`projector process tests skipped: ${skip}`);
afterAll(async () => {
  if ('stop' in postgres) await postgres.stop();
});

describe.skipIf(skip)('the projector process', () => {
  const url = 'url' in postgres ? postgres.url : '';

  it('catches up into its read models and ClickHouse, stops on SIGTERM with a checkpoint, and resumes from it without counting anything twice', async () => {
    const tmp = tempDir('sluice-projector-svc-');
    const schema = uniqueSchemaName('projector_svc');
    const store: EventStore = await openPostgresEventStore({ connectionString: url, schema, pollIntervalMs: 50 });
    const configFile = tmp.path('sluice.json');
    writeProjectorConfig(configFile, { dataDir: tmp.dir, url, schema });
    try {
      const events = demoEvents(1500);
      const half = Math.floor(events.length / 2);
      await appendAll(store, events.slice(0, half));
      const first = await startProjectorProcess(configFile);
      const before = await eventually(async () => {
        const h = await first.health();
        return settled(h) ? h : undefined;
      });
      expect(before.head).toBe(await store.headPosition());
      // each follower's gauges, as the API serves them
      const metrics = await first.metrics();
      expect(metrics).toContain(`sluice_follower_position{follower="projector"} ${before.projector}\n`);
      expect(metrics).toContain(`sluice_follower_position{follower="touchpoints"} ${before.touchpoints}\n`);
      expect(metrics).toContain(`sluice_follower_position{follower="stage_tables"} ${before.stageTables}\n`);
      for (const follower of ['projector', 'touchpoints', 'stage_tables']) {
        expect(metrics).toContain(`sluice_follower_parked_total{follower="${follower}"} 0\n`);
        expect(metrics).toContain(`sluice_follower_retrying{follower="${follower}"} 0\n`);
      }
      expect(await stopProcess(first.child, 'SIGTERM')).toBe(0);
      expect(first.output()).toContain('projector: SIGTERM: stopping');

      // the checkpoint SIGTERM left is where the restart begins
      const left = openProjectionStore(tmp.path('projections.sqlite'));
      expect(left.state().position).toBe(before.projector);
      left.close();

      await appendAll(store, events.slice(half));
      const second = await startProjectorProcess(configFile);
      const after = await eventually(async () => {
        const h = await second.health();
        return settled(h) && h.head === (await store.headPosition()) ? h : undefined;
      });
      expect(after.projector).toBeGreaterThan(before.projector);
      expect(await stopProcess(second.child, 'SIGTERM')).toBe(0);

      // the read models equal a clean rebuild of the whole log
      const reference = openProjectionStore(':memory:');
      await rebuild({ store, projections: reference, config: loadConfig({ file: configFile, env: {} }) });
      const projected = openProjectionStore(tmp.path('projections.sqlite'));
      expect(contentHash(projected)).toBe(contentHash(reference));
      const transitions = reference.db.prepare('SELECT count(*) FROM stage_transitions').pluck().get() as number;
      projected.close();
      reference.close();

      // ClickHouse (the process's chDB, opened once it has exited): every touchpoint once, every transition
      const touchpointIds = (await store.readAll()).filter((e) => e.type !== 'identity_linked').length;
      const client = createAnalyticsClient({ dataPath: tmp.dir });
      try {
        const [stored] = await client.rows<{ n: string | number; ids: string | number }>('SELECT count() AS n, uniqExact(event_id) AS ids FROM touchpoints FINAL');
        expect(Number(stored!.n)).toBe(touchpointIds);
        expect(Number(stored!.ids)).toBe(touchpointIds);
        const [staged] = await client.rows<{ n: string | number }>('SELECT count() AS n FROM stage_transitions FINAL WHERE is_deleted = 0');
        expect(Number(staged!.n)).toBe(transitions);
      } finally {
        await client.close();
      }
    } finally {
      await store.close();
      await dropSchema(url, schema);
      tmp.remove();
    }
  });
});
