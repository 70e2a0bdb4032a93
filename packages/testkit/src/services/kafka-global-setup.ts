// vitest globalSetup: one local Kafka broker for the whole test run instead of
// one per test file. Nothing starts here: the run's ports and data directory are
// chosen and handed to the workers (forked after this runs, with its
// process.env), the first resolveKafka() starts the broker, and the teardown
// stops it. A run that asks for no Kafka pays nothing.
//
// Wire it in vitest.config.ts: test.globalSetup: ['packages/testkit/src/services/kafka-global-setup.ts']
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeBrokerPort, runBrokerEnv, stopBroker } from './kafka.js';

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.KAFKA_BROKERS?.trim()) return async () => {};
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-kafka-run-'));
  process.env[runBrokerEnv.dataDir] = dataDir;
  process.env[runBrokerEnv.port] = String(await freeBrokerPort());
  process.env[runBrokerEnv.ownerPid] = String(process.pid);
  return async () => {
    await stopBroker(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  };
}
