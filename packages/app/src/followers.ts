import { join } from 'node:path';
import { createAnalyticsClient, migrate, runStageTableSink, runTouchpointSink } from '@sluice/analytics';
import type { AnalyticsClient } from '@sluice/analytics';
import type { EventStore } from '@sluice/event-store';
import { reportToConsole } from '@sluice/follower';
import type { Follower } from '@sluice/follower';
import { FileCursor, connectKafka, publishLeadChanges, sluiceTopics, topicNames } from '@sluice/kafka';
import type { KafkaProducer } from '@sluice/kafka';
import { changeFeedSource, openProjectionStore, stageStateSource, startProjector } from '@sluice/projector';
import { startReadModelReplicator } from '@sluice/read-models-postgres';
import type { ProjectionStore, Projector } from '@sluice/projector';
import type { KafkaConfig, SluiceConfig } from '@sluice/schemas';
import type { Closer } from './closer.js';

/** What every role is configured from: the rules and server configuration, the data directory, ClickHouse. */
export interface EngineSettings {
  config: SluiceConfig;
  /** where the embedded store, the read models, chDB and the cursors live (flags may override server.dataDir) */
  dataDir: string;
  /** a ClickHouse server; without it, embedded chDB in the data directory */
  clickhouseUrl: string | undefined;
}

/** The data directory's ClickHouse (chDB, or the server at CLICKHOUSE_URL), migrated, closed by `closer`. */
export async function openAnalytics(closer: Closer, settings: EngineSettings): Promise<AnalyticsClient> {
  const client = closer.add(createAnalyticsClient({ url: settings.clickhouseUrl, dataPath: settings.dataDir }), (c) => c.close());
  await migrate(client);
  return client;
}

/** The Kafka producer of a process (topics created if missing), disconnected by `closer` after what produces through it has stopped. */
export async function openKafkaProducer(closer: Closer, config: KafkaConfig, clientId: string): Promise<KafkaProducer> {
  const kafka = connectKafka({ brokers: config.brokers, clientId });
  await kafka.ensureTopics(sluiceTopics(config));
  return closer.add(await kafka.producer(), (p) => p.disconnect());
}

/** The share of the log a projector instance takes (scale-out): its leads, and whether it also runs the per-event touchpoint sink. */
export interface ProjectorShare {
  ownsLead: (leadId: string) => boolean;
  /** tells this share's read models and cursor apart from another layout's in a reused data directory ("-p0of2") */
  fileSuffix: string;
  touchpoints: boolean;
  /** the slot (i of N), which the read-model replicator refuses when N > 1: a copy is of every lead */
  partition: { index: number; count: number };
}

export interface LogFollowers {
  projections: ProjectionStore;
  projector: Projector;
  client: AnalyticsClient;
  /** the touchpoint sink; undefined in a share that leaves it to another */
  sink: Follower | undefined;
  stageSink: Follower;
  /** the read-model replicator into PostgreSQL, with server.readModels there (what API replicas read) */
  replicator: Follower | undefined;
  /** the lead-changes publisher, with server.kafka */
  publisher: Follower | undefined;
  /** the process's Kafka producer, with server.kafka (the embedded API produces accepted events through it too) */
  producer: KafkaProducer | undefined;
  /** every follower started, for /readyz and /metrics */
  all: Follower[];
}

/**
 * The followers of the log, as `serve` (embedded) and the projector process
 * run them: the projector into the read models in the data directory, the
 * ClickHouse touchpoint and stage-table sinks, with server.readModels on
 * PostgreSQL the read-model replicator (the copy API replicas read), and with
 * server.kafka the lead-changes publisher. Each is registered with `closer`
 * as it starts, in the one order that lets them stop cleanly: the publisher,
 * then the projector, then the followers of the read models (the replicator
 * and the stage-table sink, finishing on the projector's last flush), then
 * the touchpoint sink, then the stores.
 */
export async function startLogFollowers(closer: Closer, store: EventStore, settings: EngineSettings, options: { kafkaClientId: string; share?: ProjectorShare }): Promise<LogFollowers> {
  const { config, dataDir } = settings;
  const { share } = options;
  const suffix = share?.fileSuffix ?? '';
  const projections = closer.add(openProjectionStore(join(dataDir, `projections${suffix}.sqlite`)), (p) => p.close());
  // first: an unreachable broker fails the start before any follower runs
  const producer = config.server.kafka === undefined ? undefined : await openKafkaProducer(closer, config.server.kafka, options.kafkaClientId);
  const client = await openAnalytics(closer, settings);
  const sink = share === undefined || share.touchpoints ? closer.add(await runTouchpointSink(store, client, reportToConsole('the ClickHouse touchpoint sink')), (s) => s.stop()) : undefined;
  const stageSink = closer.add(runStageTableSink(stageStateSource(projections), client, reportToConsole('the ClickHouse stage-table sink')), (s) => s.stop());
  const readModels = config.server.readModels;
  const replicator =
    readModels.adapter === 'postgres'
      ? closer.add(
          startReadModelReplicator({
            projections,
            connectionString: readModels.url,
            schema: readModels.schema,
            ...(share ? { partition: share.partition } : {}),
            ...reportToConsole('the read-model replicator'),
          }),
          (r) => r.stop(),
        )
      : undefined;
  // after the sinks, so it stops before them: its last flush is what they finish on (a rules mismatch throws here)
  const projector = closer.add(startProjector({ store, projections, config, ...(share ? { ownsLead: share.ownsLead } : {}), ...reportToConsole('the projector') }), (p) => p.stop());
  const publisher =
    producer === undefined
      ? undefined
      : closer.add(
          publishLeadChanges({
            topic: topicNames(config.server.kafka!.topicPrefix).leadChanges,
            feed: changeFeedSource(projections, () => projector.changes()),
            producer,
            cursor: new FileCursor(join(dataDir, `lead-changes${suffix}.cursor`)),
            ...reportToConsole('the lead-changes publisher'),
          }),
          (p) => p.stop(),
        );
  const all = [projector, ...(sink ? [sink] : []), stageSink, ...(replicator ? [replicator] : []), ...(publisher ? [publisher] : [])];
  return { projections, projector, client, sink, stageSink, replicator, publisher, producer, all };
}
