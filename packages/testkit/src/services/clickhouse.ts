/**
 * Where tests get a ClickHouse server (embedded chDB needs nothing: it always
 * runs), in the order docs/architecture.md sets for every service: an explicit
 * CLICKHOUSE_URL, else a container when a Docker engine answers, else a skip
 * with every reason joined. There is no local-process step: no ClickHouse
 * server runs on our machines, and chDB already covers the engine there.
 *
 * To get the server variants of the analytics tests:
 * - with Docker: make sure `docker info` works for your user (or DOCKER_HOST
 *   points at the engine) and run the tests as usual, e.g.
 *   `pnpm vitest run packages/analytics`. The run's global setup
 *   (clickhouse-global-setup.ts) starts one clickhouse/clickhouse-server
 *   container, every test file creates and drops its own database in it, and
 *   the teardown removes it. The first run pulls the image.
 * - without Docker: CLICKHOUSE_URL=http://user:password@host:8123 points the
 *   tests at a server of your own (each file still uses its own database).
 * PostgreSQL (postgres.ts) and Kafka (kafka.ts) follow the same order.
 */
import { noDockerEngine, pingDockerEngine, type ResolveServiceOptions } from './docker.js';

export type ClickHouseServerResolution =
  | { url: string; source: 'environment' }
  | { url: string; source: 'container'; stop: () => Promise<void> }
  | { skip: string };

/** What the global setup hands the test workers: a server URL or why there is none. */
export type ClickHouseServerProvided = { url: string } | { skip: string };

/** The key under which clickhouse-global-setup.ts provides it (vitest `inject`). */
export const CLICKHOUSE_SERVER_KEY = 'sluiceClickHouseServer';

declare module 'vitest' {
  export interface ProvidedContext {
    [CLICKHOUSE_SERVER_KEY]: ClickHouseServerProvided;
  }
}

/** An LTS release, near the engine the chdb package embeds, so both backends run the same SQL. */
const CLICKHOUSE_IMAGE = 'clickhouse/clickhouse-server:25.8';

export async function resolveClickHouseServer(options: ResolveServiceOptions = {}): Promise<ClickHouseServerResolution> {
  const { env = process.env, dockerEngine = pingDockerEngine } = options;
  // Used as given, never probed: a server that is down should fail the tests, not skip them.
  const explicit = env.CLICKHOUSE_URL?.trim();
  if (explicit) return { url: explicit, source: 'environment' };
  const engine = await dockerEngine(env);
  // An engine that answers but cannot start the container is a fault to see, not a reason to skip.
  if (engine.answers) return startClickHouseContainer();
  return { skip: ['CLICKHOUSE_URL is not set', noDockerEngine(engine)].join('; ') };
}

/**
 * testcontainers is imported here, not at the top, so a machine without
 * Docker never loads it. The module waits until the HTTP interface answers.
 */
async function startClickHouseContainer(): Promise<ClickHouseServerResolution> {
  const { ClickHouseContainer } = await import('@testcontainers/clickhouse');
  const container = await new ClickHouseContainer(CLICKHOUSE_IMAGE).start();
  // Without a database in the path: each test file creates its own.
  const url = new URL(container.getHttpUrl());
  url.username = container.getUsername();
  url.password = container.getPassword();
  return { url: url.toString(), source: 'container', stop: async () => void (await container.stop()) };
}
