// vitest globalSetup: one ClickHouse server for the whole test run, resolved
// before the workers fork (resolveClickHouseServer: CLICKHOUSE_URL, else a
// container when a Docker engine answers, else a skip) and handed to them as
// inject(CLICKHOUSE_SERVER_KEY); the teardown removes a container it started.
// Without an engine this costs one failed socket connect.
//
// Wire it in vitest.config.ts: test.globalSetup: [..., 'packages/testkit/src/services/clickhouse-global-setup.ts']
import type { TestProject } from 'vitest/node';
import { CLICKHOUSE_SERVER_KEY, resolveClickHouseServer } from './clickhouse.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await resolveClickHouseServer();
  project.provide(CLICKHOUSE_SERVER_KEY, 'url' in server ? { url: server.url } : { skip: server.skip });
  return async () => {
    if ('stop' in server) await server.stop();
  };
}
