// The order every service resolver follows (docs/architecture.md): an explicit
// URL from the environment, else a container when a Docker engine answers,
// else a local process, else a skip naming every reason. No Docker engine can
// run on our machines, so where a test needs one to "answer" the probe is a
// fake, and the test's name says so; the container steps themselves run only
// where an engine does.
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLICKHOUSE_SERVER_KEY, resolveClickHouseServer } from './clickhouse.js';
import { pingDockerEngine, type DockerEngine, type DockerProbe } from './docker.js';
import { resolveEventStoreDb } from './eventstoredb.js';
import { resolveKafka, runBrokerEnv } from './kafka.js';
import { LOCAL_POSTGRES_URL, resolvePostgres } from './postgres.js';

/** A fake Docker probe (no engine runs here) that records how often it was asked. */
function fakeDockerProbe(engine: DockerEngine): DockerProbe & { calls: number } {
  const probe = Object.assign(
    async () => {
      probe.calls += 1;
      return engine;
    },
    { calls: 0 },
  );
  return probe;
}

const noEngine = { answers: false, reason: 'connect ENOENT /fake/docker.sock' } as const;

let socketDir: string;
beforeAll(async () => {
  socketDir = await mkdtemp(join(tmpdir(), 'sluice-docker-probe-'));
});
afterAll(async () => {
  await rm(socketDir, { recursive: true, force: true });
});

describe('explicit URLs come first and are used as given', () => {
  it('given SLUICE_TEST_POSTGRES_URL and DATABASE_URL, when resolving PostgreSQL with a fake Docker probe that answers, then the test URL is used and Docker is not asked', async () => {
    const dockerEngine = fakeDockerProbe({ answers: true });
    const env = { SLUICE_TEST_POSTGRES_URL: 'postgres://ci@db:5432/t', DATABASE_URL: 'postgres://app@db:5432/app' };

    expect(await resolvePostgres({ env, dockerEngine })).toEqual({ url: 'postgres://ci@db:5432/t', source: 'environment' });
    expect(await resolvePostgres({ env: { DATABASE_URL: env.DATABASE_URL }, dockerEngine })).toEqual({
      url: 'postgres://app@db:5432/app',
      source: 'environment',
    });
    expect(dockerEngine.calls).toBe(0);
  });

  it('given CLICKHOUSE_URL, when resolving the ClickHouse server with a fake Docker probe that answers, then that URL is used and Docker is not asked', async () => {
    const dockerEngine = fakeDockerProbe({ answers: true });

    const resolved = await resolveClickHouseServer({ env: { CLICKHOUSE_URL: ' http://u:p@ch:8123 ' }, dockerEngine });

    expect(resolved).toEqual({ url: 'http://u:p@ch:8123', source: 'environment' });
    expect(dockerEngine.calls).toBe(0);
  });

  it('given EVENTSTORE_URL, when resolving EventStoreDB with a fake Docker probe that answers, then that connection string is used and Docker is not asked', async () => {
    const dockerEngine = fakeDockerProbe({ answers: true });

    const resolved = await resolveEventStoreDb({ env: { EVENTSTORE_URL: ' esdb://es:2113?tls=false ' }, dockerEngine });

    expect(resolved).toEqual({ connectionString: 'esdb://es:2113?tls=false', source: 'environment' });
    expect(dockerEngine.calls).toBe(0);
  });

  it('given KAFKA_BROKERS, when resolving Kafka with a fake Docker probe that answers, then those brokers are used and Docker is not asked', async () => {
    const dockerEngine = fakeDockerProbe({ answers: true });

    const resolved = await resolveKafka({ env: { KAFKA_BROKERS: 'k1:9092, k2:9092' }, dockerEngine });

    expect(resolved).toEqual({ brokers: ['k1:9092', 'k2:9092'], source: 'environment' });
    expect(dockerEngine.calls).toBe(0);
  });

  it('given the run\'s container broker from the global setup, when resolving Kafka, then its address is used with source container and Docker is not asked again', async () => {
    const dockerEngine = fakeDockerProbe({ answers: true });

    const resolved = await resolveKafka({ env: { [runBrokerEnv.containerBrokers]: '127.0.0.1:32771' }, dockerEngine });

    expect(resolved).toEqual({ brokers: ['127.0.0.1:32771'], source: 'container' });
    expect(dockerEngine.calls).toBe(0);
  });
});

describe('without a Docker engine the skip reason says so', () => {
  it('given no CLICKHOUSE_URL and a fake Docker probe that finds no engine, when resolving the ClickHouse server, then it skips naming both reasons', async () => {
    const resolved = await resolveClickHouseServer({ env: {}, dockerEngine: fakeDockerProbe(noEngine) });

    expect(resolved).toEqual({ skip: 'CLICKHOUSE_URL is not set; no Docker engine (connect ENOENT /fake/docker.sock)' });
  });

  it('given no EVENTSTORE_URL and a fake Docker probe that finds no engine, when resolving EventStoreDB, then it skips naming both reasons', async () => {
    const resolved = await resolveEventStoreDb({ env: {}, dockerEngine: fakeDockerProbe(noEngine) });

    expect(resolved).toEqual({ skip: 'EVENTSTORE_URL is not set; no Docker engine (connect ENOENT /fake/docker.sock)' });
  });

  it('given no PostgreSQL URL and a fake Docker probe that finds no engine, when resolving PostgreSQL, then the local server is used where it answers, else the skip names all three reasons', async () => {
    const resolved = await resolvePostgres({ env: {}, dockerEngine: fakeDockerProbe(noEngine) });

    if ('skip' in resolved) {
      expect(resolved.skip).toMatch(
        new RegExp(
          '^neither SLUICE_TEST_POSTGRES_URL nor DATABASE_URL is set; no Docker engine \\(connect ENOENT /fake/docker.sock\\); ' +
            `no PostgreSQL answers at ${LOCAL_POSTGRES_URL} \\(.+\\)$`,
        ),
      );
    } else {
      expect(resolved).toEqual({ url: LOCAL_POSTGRES_URL, source: 'local' });
    }
  });

  it('given a DOCKER_HOST socket nothing listens on, when resolving the ClickHouse server with the real probe, then it skips and no testcontainers module was loaded', async () => {
    // testcontainers and its modules are CommonJS: once imported, they sit in the require cache.
    const loadedContainerModules = () =>
      Object.keys(createRequire(import.meta.url).cache).filter((path) => /[/\\](@testcontainers[/\\]|testcontainers[/\\]build)/.test(path));
    const socket = join(socketDir, 'absent.sock');

    const resolved = await resolveClickHouseServer({ env: { DOCKER_HOST: `unix://${socket}` } });

    expect(resolved).toEqual({ skip: `CLICKHOUSE_URL is not set; no Docker engine (connect ENOENT ${socket})` });
    expect(loadedContainerModules()).toEqual([]);
    // the check can see a loaded module: importing one puts it in the cache
    await import('@testcontainers/clickhouse');
    expect(loadedContainerModules()).not.toEqual([]);
  });
});

describe('the Docker probe', () => {
  /** Probes DOCKER_HOST pointing at a stand-in for the engine's /_ping on a unix socket that answers with `status`. */
  async function probeAgainst(status: number): Promise<{ socket: string; engine: DockerEngine }> {
    const socket = join(socketDir, `ping-${status}.sock`);
    const server = createServer((request, response) => {
      response.writeHead(request.url === '/_ping' ? status : 404).end('OK');
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      return { socket, engine: await pingDockerEngine({ DOCKER_HOST: `unix://${socket}` }) };
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  it('given something answering /_ping with 200 on DOCKER_HOST, when probed, then the engine answers', async () => {
    expect((await probeAgainst(200)).engine).toEqual({ answers: true });
  });

  it('given an engine answering /_ping with 500, when probed, then it does not count and the reason gives the status', async () => {
    const { socket, engine } = await probeAgainst(500);
    expect(engine).toEqual({ answers: false, reason: `unix://${socket} answered /_ping with HTTP 500` });
  });

  it('given a DOCKER_HOST scheme the probe cannot speak, when probed, then the reason names it', async () => {
    expect(await pingDockerEngine({ DOCKER_HOST: 'ssh://builder@host' })).toEqual({
      answers: false,
      reason: 'unsupported DOCKER_HOST ssh://builder@host',
    });
  });
});

describe('the run\'s ClickHouse server', () => {
  it('when the global setup resolved it for this run, then the workers get the same answer resolveClickHouseServer gives here', async () => {
    const engine = await pingDockerEngine(process.env);
    const provided = inject(CLICKHOUSE_SERVER_KEY);
    if (engine.answers && !process.env.CLICKHOUSE_URL) {
      // resolving again would start a second container: the run's one is enough
      expect(provided).toEqual({ url: expect.stringMatching(/^http:\/\//) });
      return;
    }
    const resolved = await resolveClickHouseServer();
    expect(provided).toEqual('url' in resolved ? { url: resolved.url } : { skip: resolved.skip });
  });
});
