/**
 * Where tests get a PostgreSQL server, in the order docs/architecture.md sets
 * for every service: an explicit URL from the environment, else a container
 * when a Docker engine answers, else the local server our machines run, else
 * a skip whose reason the suite prints.
 *
 * pg is imported only inside the probe, so a suite that imports
 * `@sluice/testkit` for another service (Kafka, ClickHouse) does not load it.
 */
import { randomBytes } from 'node:crypto';
import { noDockerEngine, pingDockerEngine, type ResolveServiceOptions } from './docker.js';

export type PostgresResolution =
  | { url: string; source: 'environment' | 'local' }
  /** `stop` removes the container: call it when the tests are done with it. */
  | { url: string; source: 'container'; stop: () => Promise<void> }
  | { skip: string };

/** The server our own machines run (trust auth). */
export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The major version the PostgreSQL event store is written against. */
const POSTGRES_IMAGE = 'postgres:15';

const PROBE_TIMEOUT_MS = 2000;

export async function resolvePostgres(options: ResolveServiceOptions = {}): Promise<PostgresResolution> {
  const { env = process.env, dockerEngine = pingDockerEngine } = options;
  // An explicit URL is used as given, never probed: if it is down, the tests
  // should fail, not skip.
  const explicit = env.SLUICE_TEST_POSTGRES_URL || env.DATABASE_URL;
  if (explicit) return { url: explicit, source: 'environment' };
  const reasons = ['neither SLUICE_TEST_POSTGRES_URL nor DATABASE_URL is set'];

  const engine = await dockerEngine(env);
  // An engine that answers but cannot start the container is a fault to see, not a reason to skip.
  if (engine.answers) return startPostgresContainer();
  reasons.push(noDockerEngine(engine));

  const localFailure = await probePostgres(LOCAL_POSTGRES_URL);
  if (localFailure === undefined) return { url: LOCAL_POSTGRES_URL, source: 'local' };
  reasons.push(`no PostgreSQL answers at ${LOCAL_POSTGRES_URL} (${localFailure})`);
  return { skip: reasons.join('; ') };
}

/**
 * testcontainers is imported here, not at the top, so that importing
 * `@sluice/testkit` (for another service, or on a machine without Docker)
 * does not load it. The module waits until the server accepts connections.
 */
async function startPostgresContainer(): Promise<PostgresResolution> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer(POSTGRES_IMAGE).start();
  return { url: container.getConnectionUri(), source: 'container', stop: async () => void (await container.stop()) };
}

/** undefined when the server accepts a connection and a query; otherwise why not. */
async function probePostgres(url: string): Promise<string | undefined> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  // A connection that fails after connect() resolved emits 'error'; the rejection below already reports it.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A schema name no other test or run uses, for one store (or one test) to
 * own and drop: lowercase, within PostgreSQL's 63-byte identifier limit.
 */
export function uniqueSchemaName(label: string): string {
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const base = label.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63 - suffix.length - 1);
  return `${base}_${suffix}`;
}

/** Drops a schema a test created, with everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}
