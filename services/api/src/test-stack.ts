import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAnalyticsClient, migrate, runTouchpointSink, syncStageTables } from '@sluice/analytics';
import type { AnalyticsClient } from '@sluice/analytics';
import type { Follower } from '@sluice/follower';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { openProjectionStore, stageStateSource, startProjector } from '@sluice/projector';
import type { RuleConfig } from '@sluice/schemas';
import type { Projections } from './routes/projections.js';

/**
 * The real components an API route test runs against, in a temporary
 * directory: the SQLite event store, embedded chDB (migrated) with the
 * touchpoint sink following the store and, given rules, the projector over
 * its own read models. Test-only.
 *
 * chDB binds one data directory per process: a file opens one stack (vitest
 * runs each file in its own forked worker).
 */
export interface TestStack {
  dir: string;
  store: EventStore;
  client: AnalyticsClient;
  sink: Follower;
  /** Set when opened with rules: the read models as buildApp takes them. */
  read?: Projections;
  /** Waits for the projector to take in the log, then writes its stages to ClickHouse's stage tables. */
  catchUp(): Promise<void>;
  close(): Promise<void>;
}

export async function openTestStack(name: string, rules?: RuleConfig): Promise<TestStack> {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  const store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const client = createAnalyticsClient({ dataPath: dir });
  await migrate(client);
  const sink = await runTouchpointSink(store, client);
  let read: Projections | undefined;
  if (rules) {
    const projections = openProjectionStore(join(dir, 'projections.sqlite'));
    read = { projections, projector: startProjector({ store, projections, config: rules }), config: rules };
  }
  return {
    dir,
    store,
    client,
    sink,
    ...(read ? { read } : {}),
    async catchUp() {
      if (!read) throw new Error('this stack has no projector: open it with rules');
      await read.projector.caughtUp();
      await syncStageTables(stageStateSource(read.projections), client);
    },
    async close() {
      await sink.stop();
      if (read) {
        await read.projector.stop();
        read.projections.close();
      }
      await client.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
