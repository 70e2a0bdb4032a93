// vitest globalSetup: one Kafka broker for the whole test run instead of one
// per test file, stopped by the teardown.
//
// When a Docker engine answers, the run's broker is a container started here,
// before the workers fork, and its address reaches them through process.env
// (every run then pays for a broker: a worker cannot ask this process to start
// one later). Otherwise nothing starts here: the run's ports and data directory
// for a local broker are chosen and handed to the workers, and the first
// resolveKafka() starts it, so a run that asks for no Kafka pays nothing.
//
// Wire it in vitest.config.ts: test.globalSetup: ['packages/testkit/src/services/kafka-global-setup.ts']
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pingDockerEngine } from './docker.js';
import { freeBrokerPort, runBrokerEnv, startKafkaContainer, stopBroker } from './kafka.js';

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.KAFKA_BROKERS?.trim()) return async () => {};
  if ((await pingDockerEngine(process.env)).answers) {
    const container = await startKafkaContainer();
    process.env[runBrokerEnv.containerBrokers] = container.brokers.join(',');
    return container.stop;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-kafka-run-'));
  process.env[runBrokerEnv.dataDir] = dataDir;
  process.env[runBrokerEnv.port] = String(await freeBrokerPort());
  process.env[runBrokerEnv.ownerPid] = String(process.pid);
  return async () => {
    await stopBroker(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  };
}
