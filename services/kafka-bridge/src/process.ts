import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { openConfiguredEventStore } from '@sluice/event-store';
import { connectKafka, sluiceTopics, topicNames } from '@sluice/kafka';
import type { SluiceConfig } from '@sluice/schemas';
import { startBridge } from './bridge.js';
import type { BridgeMetrics } from './metrics.js';

export class BridgeConfigError extends Error {}

/**
 * The kafka-bridge as its own process, from the same configuration as the
 * other processes: the configured store, the topics (created if missing),
 * the consumer group, /metrics. SIGTERM or SIGINT leave the group cleanly;
 * SIGKILL loses nothing either (uncommitted messages are redelivered).
 */
export async function runBridgeProcess(config: SluiceConfig): Promise<void> {
  const { kafka: kafkaConfig, eventStore, dataDir } = config.server;
  if (kafkaConfig === undefined) throw new BridgeConfigError('the kafka-bridge needs server.kafka in the configuration (or SLUICE_KAFKA_BROKERS)');
  const store = await openConfiguredEventStore(eventStore, dataDir);
  const kafka = connectKafka({ brokers: kafkaConfig.brokers, clientId: `${kafkaConfig.clientId}-bridge` });
  const topics = topicNames(kafkaConfig.topicPrefix);
  let bridge;
  try {
    await kafka.ensureTopics(sluiceTopics(kafkaConfig));
    bridge = await startBridge({
      kafka,
      store,
      groupId: kafkaConfig.bridge.groupId,
      topics,
      maxBatchEvents: kafkaConfig.bridge.maxBatchEvents,
      maxInFlightEvents: kafkaConfig.bridge.maxInFlightEvents,
      sessionTimeoutMs: kafkaConfig.bridge.sessionTimeoutMs,
      // every partition this bridge owns appends at once; the store's group commit merges them and the in-flight bound caps memory
      concurrentPartitions: kafkaConfig.partitions,
      onCrash: (err) => {
        console.error('kafka-bridge: the consumer stopped:', err);
        process.exit(1);
      },
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const server = await serveMetrics(bridge.metrics, config.server.host, kafkaConfig.bridge.metricsPort);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : kafkaConfig.bridge.metricsPort;
  console.log(`kafka-bridge: consuming ${topics.touchpoints} as ${kafkaConfig.bridge.groupId} into the ${eventStore.adapter} store; metrics on http://${config.server.host}:${port}/metrics`);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`kafka-bridge: ${signal}: leaving the group`);
    void bridge
      .stop()
      .then(() => store.close())
      .then(() => new Promise((resolve) => server.close(resolve)))
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error('kafka-bridge: shutdown failed:', err);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

function serveMetrics(metrics: BridgeMetrics, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: unknown) => response.writeHead(500).end(String(err)),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
