import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLICKHOUSE_SERVER_KEY } from '@sluice/testkit';
import { inject } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { createAnalyticsClient } from './client.js';
import { migrate } from './migrations.js';

/**
 * The ClickHouse backends a test file runs against: embedded chDB always, a
 * server when the run has one (skipped with the reason printed otherwise).
 * The server is resolved once per run by @sluice/testkit's ClickHouse global
 * setup (CLICKHOUSE_URL, else a container when a Docker engine answers) and
 * injected here. Test-only.
 *
 * chDB binds one data directory per process and vitest runs each file in its
 * own forked process, so a file gets ONE chDB directory, shared by its suites;
 * `reset` empties the tables between tests. On a server each file gets its
 * own database, dropped at the end.
 */
export interface TestBackend {
  name: 'chdb' | 'server';
  /** Why this backend is skipped here; undefined when it runs. */
  skip: string | undefined;
  /** Opens (once per file) a migrated client. */
  open(): Promise<AnalyticsClient>;
  /** Empties every table (keeps the schema). */
  reset(client: AnalyticsClient): Promise<void>;
  close(): Promise<void>;
}

const DATA_TABLES = ['touchpoints', 'identity_links', 'sink_checkpoints', 'stage_transitions', 'lead_profile'] as const;

async function reset(client: AnalyticsClient): Promise<void> {
  for (const table of DATA_TABLES) await client.command(`TRUNCATE TABLE IF EXISTS ${table}`);
}

// one directory per process, reused if a file closes and reopens (chDB must not see two paths)
let chdbDir: string | undefined;
let chdb: AnalyticsClient | undefined;
let server: { admin: AnalyticsClient; client: AnalyticsClient; database: string } | undefined;

let warned = false;

export function testBackends(): TestBackend[] {
  const provided = inject(CLICKHOUSE_SERVER_KEY);
  const url = 'url' in provided ? provided.url : undefined;
  const serverSkip = 'skip' in provided ? `${provided.skip}: the ClickHouse server variant is skipped (embedded chDB runs)` : undefined;
  if (serverSkip && !warned) console.warn(`[analytics] ${serverSkip}`);
  warned = true;
  return [
    {
      name: 'chdb',
      skip: undefined,
      async open() {
        if (!chdb) {
          if (!chdbDir) {
            const dir = mkdtempSync(join(tmpdir(), 'sluice-analytics-'));
            process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
            chdbDir = dir;
          }
          chdb = createAnalyticsClient({ dataPath: chdbDir });
          await migrate(chdb);
        }
        return chdb;
      },
      reset,
      async close() {
        await chdb?.close();
        chdb = undefined;
      },
    },
    {
      name: 'server',
      skip: serverSkip,
      async open() {
        if (!server) {
          const database = `sluice_test_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
          const admin = createAnalyticsClient({ url });
          await admin.command(`CREATE DATABASE ${database}`);
          const client = createAnalyticsClient({ url, database });
          await migrate(client);
          server = { admin, client, database };
        }
        return server.client;
      },
      reset,
      async close() {
        if (!server) return;
        await server.client.close();
        await server.admin.command(`DROP DATABASE IF EXISTS ${server.database}`);
        await server.admin.close();
        server = undefined;
      },
    },
  ];
}
