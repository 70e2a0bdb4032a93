// Kafka for tests: an explicit KAFKA_BROKERS, else the single-node KRaft broker
// from infra/kafka (jars from Maven Central, run with the machine's Java), else
// a skip with its reason. Our machines have no Docker engine, so testcontainers
// is not wired in; the reason says so when nothing else could be had.
//
// One broker per test run: wire kafka-global-setup.ts into vitest's globalSetup
// and the first test file that asks starts a broker on ports chosen for the run,
// later files find it running, and the run's teardown stops it. Without that
// wiring every resolveKafka() starts its own broker and the caller stops it.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KafkaService {
  /** bootstrap addresses, `host:port` */
  brokers: string[];
  /** present when this call started the broker: stop it (and drop its data) when done */
  stop?: () => Promise<void>;
  /** present when the broker is a local one this process may restart (see restartKafka) */
  restart?: () => Promise<void>;
}

export type KafkaResolution = KafkaService | { skip: string };

export interface ResolveKafkaOptions {
  /**
   * A broker of the caller's own, which it may restart: always a fresh local
   * broker (never KAFKA_BROKERS nor the run's shared one, whose other users a
   * restart would disturb).
   */
  exclusive?: boolean;
}

/** Environment the global setup hands to test workers (forked after it runs). */
export const runBrokerEnv = {
  /** data directory of the run's shared broker */
  dataDir: 'SLUICE_KAFKA_RUN_DATA_DIR',
  /** its client port; the controller listens on the next one */
  port: 'SLUICE_KAFKA_RUN_PORT',
  /** the test runner's pid: the broker stops itself if that process dies without its teardown */
  ownerPid: 'SLUICE_KAFKA_RUN_OWNER_PID',
} as const;

const infraDir = fileURLToPath(new URL('../../../../infra/kafka/', import.meta.url));

export async function resolveKafka(options: ResolveKafkaOptions = {}): Promise<KafkaResolution> {
  const external = process.env.KAFKA_BROKERS?.trim();
  if (external && !options.exclusive) {
    return { brokers: external.split(',').map((broker) => broker.trim()) };
  }
  const tried = [
    external ? 'KAFKA_BROKERS is set but cannot be restarted from here' : 'KAFKA_BROKERS is not set',
    await dockerEngineStatus(),
  ];

  const java = await javaMajorVersion();
  if (java === undefined) return { skip: [...tried, 'local broker: java not found (it needs Java 17+)'].join('; ') };
  if (java < 17) return { skip: [...tried, `local broker: it needs Java 17+, found Java ${java}`].join('; ') };

  const fetched = await runScript('fetch.sh', []);
  if (fetched.code !== 0) {
    return { skip: [...tried, `local broker: could not fetch the jars from Maven Central: ${fetched.stderr.trim()}`].join('; ') };
  }

  const runDataDir = process.env[runBrokerEnv.dataDir];
  const runPort = process.env[runBrokerEnv.port];
  const runOwner = process.env[runBrokerEnv.ownerPid];
  if (runDataDir && runPort && runOwner && !options.exclusive) {
    // start.sh is idempotent under a lock: the first file of the run starts the
    // broker, the others find it running. The global setup's teardown stops it.
    const address = await startBroker(['--port', runPort, '--data-dir', runDataDir, '--owner-pid', runOwner]);
    return { brokers: [address] };
  }
  return startOwnBroker();
}

/** Restart a broker this process started, as a crash-and-recover test needs: a clean stop, then a start on the same data. */
export async function restartKafka(kafka: KafkaService): Promise<void> {
  if (!kafka.restart) {
    throw new Error(`cannot restart ${kafka.brokers.join(',')}: not a local broker of this caller (ask resolveKafka({ exclusive: true }))`);
  }
  await kafka.restart();
}

/** Ports for a broker that nothing else uses; the controller takes port + 1. */
export async function freeBrokerPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 65535 && (await portIsFree(port + 1))) return port;
  }
}

/** Stop the broker start.sh runs from dataDir (no-op when none runs there). */
export async function stopBroker(dataDir: string): Promise<void> {
  const stopped = await runScript('stop.sh', ['--data-dir', dataDir]);
  if (stopped.code !== 0) throw new Error(`infra/kafka/stop.sh failed: ${stopped.stderr.trim()}`);
}

async function startOwnBroker(): Promise<KafkaService> {
  const port = await freeBrokerPort();
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-kafka-'));
  const args = ['--port', String(port), '--data-dir', dataDir, '--owner-pid', String(process.pid)];
  const address = await startBroker(args);
  return {
    brokers: [address],
    stop: async () => {
      await stopBroker(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopBroker(dataDir);
      await startBroker(args);
    },
  };
}

async function startBroker(args: string[]): Promise<string> {
  const started = await runScript('start.sh', args);
  if (started.code !== 0) {
    // Java and the jars are here, so a broker that does not start is a fault to
    // see, not a reason to skip.
    throw new Error(`infra/kafka/start.sh ${args.join(' ')} failed: ${started.stderr.trim()}`);
  }
  return started.stdout.trim().split('\n').at(-1) ?? '';
}

interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runScript(script: string, args: string[]): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile('bash', [join(infraDir, script), ...args], { maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr: stderr || (error?.message ?? '') });
    });
  });
}

function javaMajorVersion(): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('java', ['-version'], (error, _stdout, stderr) => {
      if (error) return resolve(undefined);
      // `openjdk version "17.0.15" ...`, or "1.8.0_392" for Java 8
      const match = /version "(?:1\.)?(\d+)/.exec(stderr);
      resolve(match?.[1] === undefined ? undefined : Number(match[1]));
    });
  });
}

/** Whether a Docker engine answers, for the skip reason (testcontainers is not wired in). */
function dockerEngineStatus(): Promise<string> {
  const host = process.env.DOCKER_HOST;
  const socketPath = host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
  if (host && !host.startsWith('unix://')) return Promise.resolve(`DOCKER_HOST=${host} is not probed (testcontainers is not wired in)`);
  return new Promise((resolve) => {
    const ping = request({ socketPath, path: '/_ping', timeout: 2000 }, (response) => {
      response.resume();
      resolve(`a Docker engine answers at ${socketPath}, but testcontainers is not wired in`);
    });
    ping.on('timeout', () => ping.destroy(new Error('timeout')));
    ping.on('error', () => resolve('no Docker engine'));
    ping.end();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
