// Kafka for tests: an explicit KAFKA_BROKERS, else a container when a Docker
// engine answers, else the single-node KRaft broker from infra/kafka (jars from
// Maven Central, run with the machine's Java), else a skip with every reason.
//
// One broker per test run: wire kafka-global-setup.ts into vitest's globalSetup.
// With Docker it starts the run's container before the workers fork and hands
// them its address; without, the first test file that asks starts a local
// broker on ports chosen for the run and later files find it running. Either
// way the run's teardown stops it. Without that wiring every resolveKafka()
// starts its own broker and the caller stops it.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noDockerEngine, pingDockerEngine, type ResolveServiceOptions } from './docker.js';

export interface KafkaService {
  /** bootstrap addresses, `host:port` */
  brokers: string[];
  source: 'environment' | 'container' | 'local';
  /** present when this call started the broker: stop it (and drop its data) when done */
  stop?: () => Promise<void>;
  /** present when the broker is a local one this process may restart (see restartKafka) */
  restart?: (whileDown?: () => Promise<void>) => Promise<void>;
}

export type KafkaResolution = KafkaService | { skip: string };

export interface ResolveKafkaOptions extends ResolveServiceOptions {
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
  /** bootstrap address of the run's container broker, when the global setup started one */
  containerBrokers: 'SLUICE_KAFKA_RUN_CONTAINER_BROKERS',
} as const;

const infraDir = fileURLToPath(new URL('../../../../infra/kafka/', import.meta.url));

/**
 * The image the container step runs. The official @testcontainers/kafka
 * module drives the Confluent image's own start scripts (/etc/confluent/docker),
 * so apache/kafka would need a hand-made container; cp-kafka 8.0 is Apache
 * Kafka 4.0 in KRaft mode, the same major as the local broker (infra/kafka),
 * whose protocol kafkajs 2.2.4 is tested against in kafka.test.ts.
 */
const KAFKA_IMAGE = 'confluentinc/cp-kafka:8.0.0';
/** The module's PLAINTEXT listener for clients outside the container network. */
const KAFKA_CLIENT_PORT = 9093;

export async function resolveKafka(options: ResolveKafkaOptions = {}): Promise<KafkaResolution> {
  const { env = process.env, dockerEngine = pingDockerEngine } = options;
  const external = env.KAFKA_BROKERS?.trim();
  if (external && !options.exclusive) {
    return { brokers: splitBrokers(external), source: 'environment' };
  }
  const runContainer = env[runBrokerEnv.containerBrokers];
  if (runContainer && !options.exclusive) return { brokers: splitBrokers(runContainer), source: 'container' };
  const tried = [external ? 'KAFKA_BROKERS is set but cannot be restarted from here' : 'KAFKA_BROKERS is not set'];

  const engine = await dockerEngine(env);
  if (engine.answers && !options.exclusive) return startKafkaContainer();
  tried.push(
    engine.answers
      ? // Docker maps the client port anew when a container restarts, and the
        // broker would keep advertising the old one: a broker to restart is a local one.
        'a Docker engine answers, but a container broker cannot be restarted in place'
      : noDockerEngine(engine),
  );

  const java = await javaMajorVersion();
  if (java === undefined) return { skip: [...tried, 'local broker: java not found (it needs Java 17+)'].join('; ') };
  if (java < 17) return { skip: [...tried, `local broker: it needs Java 17+, found Java ${java}`].join('; ') };

  const fetched = await runScript('fetch.sh', []);
  if (fetched.code !== 0) {
    return { skip: [...tried, `local broker: could not fetch the jars from Maven Central: ${fetched.stderr.trim()}`].join('; ') };
  }

  const runDataDir = env[runBrokerEnv.dataDir];
  const runPort = env[runBrokerEnv.port];
  const runOwner = env[runBrokerEnv.ownerPid];
  if (runDataDir && runPort && runOwner && !options.exclusive) {
    // start.sh is idempotent under a lock: the first file of the run starts the
    // broker, the others find it running. The global setup's teardown stops it.
    const address = await startBroker(['--port', runPort, '--data-dir', runDataDir, '--owner-pid', runOwner]);
    return { brokers: [address], source: 'local' };
  }
  return startOwnBroker();
}

/**
 * A KRaft broker in a container, stopped (and removed) by `stop`. testcontainers
 * is imported here, not at the top, so a machine without Docker never loads it.
 * An engine that answers but cannot start it is a fault to see: this throws.
 */
export async function startKafkaContainer(): Promise<KafkaService & { stop: () => Promise<void> }> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const container = await new KafkaContainer(KAFKA_IMAGE).start();
  return {
    brokers: [`${container.getHost()}:${container.getMappedPort(KAFKA_CLIENT_PORT)}`],
    source: 'container',
    stop: async () => void (await container.stop()),
  };
}

function splitBrokers(list: string): string[] {
  return list.split(',').map((broker) => broker.trim());
}

/**
 * Restart a broker this process started, as a crash-and-recover test needs: a
 * clean stop, then `whileDown` (what a test does against a dead broker), then a
 * start on the same data, whether `whileDown` passed or threw.
 */
export async function restartKafka(kafka: Pick<KafkaService, 'brokers' | 'restart'>, whileDown?: () => Promise<void>): Promise<void> {
  if (!kafka.restart) {
    throw new Error(`cannot restart ${kafka.brokers.join(',')}: not a local broker of this caller (ask resolveKafka({ exclusive: true }))`);
  }
  await kafka.restart(whileDown);
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
    source: 'local',
    stop: async () => {
      await stopBroker(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    },
    restart: async (whileDown) => {
      await stopBroker(dataDir);
      try {
        await whileDown?.();
      } finally {
        await startBroker(args);
      }
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
