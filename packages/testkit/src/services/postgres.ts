/**
 * Where tests get a PostgreSQL server, in the order docs/architecture.md sets
 * for every service: an explicit URL from the environment, else a container
 * when a Docker engine answers, else the local server our machines run, else
 * a skip whose reason the suite prints.
 *
 * pg is imported only inside the probe, so importing `@sluice/testkit` for its
 * data generators does not load a database driver.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';

export type PostgresResolution = { url: string; source: 'environment' | 'container' | 'local' } | { skip: string };

/** The server our own machines run (trust auth). */
export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

const PROBE_TIMEOUT_MS = 2000;

export async function resolvePostgres(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<PostgresResolution> {
  // An explicit URL is used as given, never probed: if it is down, the tests
  // should fail, not skip.
  const explicit = env.SLUICE_TEST_POSTGRES_URL || env.DATABASE_URL;
  if (explicit) return { url: explicit, source: 'environment' };
  const reasons = ['neither SLUICE_TEST_POSTGRES_URL nor DATABASE_URL is set'];

  const container = await startPostgresContainer(env);
  if ('url' in container) return { url: container.url, source: 'container' };
  reasons.push(container.unavailable);

  const localFailure = await probePostgres(LOCAL_POSTGRES_URL);
  if (localFailure === undefined) return { url: LOCAL_POSTGRES_URL, source: 'local' };
  reasons.push(`no PostgreSQL answers at ${LOCAL_POSTGRES_URL} (${localFailure})`);
  return { skip: reasons.join('; ') };
}

/**
 * The testcontainers step. With no Docker engine (our own machines) there is
 * nothing to start. When one answers, this is where a postgres:15 container
 * would be started; testcontainers is not a dependency of the test kit, so
 * that case is reported and resolution falls through to the local server.
 */
async function startPostgresContainer(
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ url: string } | { unavailable: string }> {
  const engine = await pingDockerEngine(env);
  if (!engine.answers) return { unavailable: `no Docker engine (${engine.reason})` };
  return { unavailable: 'a Docker engine answers, but testcontainers is not a dependency of @sluice/testkit' };
}

/** GET /_ping on DOCKER_HOST (unix:// or tcp://) or the default socket. */
function pingDockerEngine(
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ answers: true } | { answers: false; reason: string }> {
  const dockerHost = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  let target: { socketPath: string } | { host: string; port: number };
  if (dockerHost.startsWith('unix://')) {
    target = { socketPath: dockerHost.slice('unix://'.length) };
  } else if (dockerHost.startsWith('tcp://')) {
    const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
    target = { host: url.hostname, port: Number(url.port || 2375) };
  } else {
    return Promise.resolve({ answers: false, reason: `unsupported DOCKER_HOST ${dockerHost}` });
  }
  return new Promise((resolve) => {
    const ping = request({ ...target, path: '/_ping', timeout: PROBE_TIMEOUT_MS }, (response) => {
      response.resume();
      resolve(
        response.statusCode === 200
          ? { answers: true }
          : { answers: false, reason: `${dockerHost} answered /_ping with HTTP ${response.statusCode}` },
      );
    });
    ping.on('timeout', () => ping.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    ping.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ answers: false, reason: `${dockerHost}: ${err.code ?? err.message}` }),
    );
    ping.end();
  });
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
