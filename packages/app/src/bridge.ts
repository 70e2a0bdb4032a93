import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connectKafka, sluiceTopics, startBridge, topicNames } from '@sluice/kafka';
import type { BridgeMetrics } from '@sluice/kafka';
import { Closer } from './closer.js';
import type { EngineSettings } from './followers.js';
import { openConfiguredEventStore } from './stores.js';

export class BridgeConfigError extends Error {}

/**
 * The bridge role: the kafka-bridge as its own process, from the same configuration as the
 * other processes: the configured store, the topics (created if missing),
 * the consumer group, /metrics. SIGTERM or SIGINT leave the group cleanly;
 * SIGKILL loses nothing either (uncommitted messages are redelivered).
 */
export async function runBridgeProcess({ config, dataDir }: Pick<EngineSettings, 'config' | 'dataDir'>): Promise<void> {
  const { kafka: kafkaConfig, eventStore } = config.server;
  if (kafkaConfig === undefined) throw new BridgeConfigError('the kafka-bridge needs server.kafka in the configuration (or SLUICE_KAFKA_BROKERS)');
  const closer = new Closer();
  const store = closer.add(await openConfiguredEventStore(eventStore, dataDir), (s) => s.close());
  const kafka = connectKafka({ brokers: kafkaConfig.brokers, clientId: `${kafkaConfig.clientId}-bridge` });
  const topics = topicNames(kafkaConfig.topicPrefix);
  const server = await closer.guard(async () => {
    await kafka.ensureTopics(sluiceTopics(kafkaConfig));
    // the bridge leaves the group before the store it appends to closes
    const bridge = closer.add(
      await startBridge({
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
      }),
      (b) => b.stop(),
    );
    return closer.add(await serveMetrics(bridge.metrics, config.server.host, kafkaConfig.bridge.metricsPort), (s) => new Promise<void>((resolve) => s.close(() => resolve())));
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : kafkaConfig.bridge.metricsPort;
  console.log(`kafka-bridge: consuming ${topics.touchpoints} as ${kafkaConfig.bridge.groupId} into the ${eventStore.adapter} store; metrics on http://${config.server.host}:${port}/metrics`);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`kafka-bridge: ${signal}: leaving the group`);
    closer.close().then(
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
