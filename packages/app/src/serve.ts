import { startServer } from '@sluice/api';
import type { ApiDeps, ApiKey, ApiLimits } from '@sluice/api';
import { ensureDashboardBuilt } from '@sluice/dashboard';
import type { EventStore } from '@sluice/event-store';
import { topicNames, touchpointPublisher } from '@sluice/kafka';
import type { KafkaProducer } from '@sluice/kafka';
import { Closer } from './closer.js';
import { startLogFollowers } from './followers.js';
import type { EngineSettings } from './followers.js';
import { openReplicaReadSide } from './replica.js';
import { storeOpener } from './stores.js';

/** What a role serving the API is configured with beyond the engine's settings. */
export interface ServeSettings extends EngineSettings {
  host: string;
  port: number;
  apiKeys: ApiKey[];
  limits: ApiLimits;
}

/** What the caller tells the user once the API listens. */
export interface Serving {
  role: 'embedded' | 'api-replica';
  /** where analytics run: chDB in the data directory or the ClickHouse server */
  analyticsBackend: string;
  /** the dashboard is served at / */
  dashboard: boolean;
  /** the port the API listens on (the one asked for, or the one given for port 0) */
  port: number;
}

/**
 * `sluice serve`: the API over the configured store, in one of two roles.
 *
 * - **embedded** (the default): this process runs every follower of the log
 *   (the projector into read models in the data directory, the ClickHouse
 *   sinks, and with server.kafka the lead-changes publisher) and the API
 *   answers from what they write.
 * - **api-replica** (server.readModels on PostgreSQL, distributed mode): the
 *   process only reads: the read models the projector process keeps in
 *   PostgreSQL and ClickHouse; it runs no follower, so any number of replicas
 *   can stand behind a load balancer.
 *
 * With server.kafka, accepted events are produced to sluice.touchpoints (the
 * kafka-bridge appends them) instead of appended here. `store` becomes this
 * role's: it is closed with the rest, or at once if the start fails.
 * `beforeListen` runs just before the API binds its port (the caller's
 * reservation of it is released there).
 */
export async function serve(store: EventStore, settings: ServeSettings, beforeListen: () => Promise<void>): Promise<Serving> {
  const closer = new Closer();
  closer.add(store, (s) => s.close());
  return closer.guard(async () => {
    const { config } = settings;
    const base = { store, limits: settings.limits, apiKeys: settings.apiKeys, freshnessWaitMs: config.server.freshnessWaitMs, capture: config.capture };
    const replica = config.server.readModels.adapter === 'postgres';
    const whatIf = { store: { choice: config.server.eventStore, dataDir: settings.dataDir, opener: storeOpener } };
    let deps: ApiDeps;
    let producer: KafkaProducer | undefined;
    let analyticsBackend: string;
    if (replica) {
      const side = await openReplicaReadSide(closer, store, settings);
      ({ producer } = side);
      analyticsBackend = side.analytics?.client.backend ?? 'no ClickHouse server';
      deps = { ...base, projections: side.projections, ...(side.analytics ? { analytics: side.analytics } : {}), whatIf, followers: side.watched };
    } else {
      const run = await startLogFollowers(closer, store, settings, { kafkaClientId: config.server.kafka?.clientId ?? 'sluice' });
      ({ producer } = run);
      analyticsBackend = run.client.backend;
      deps = {
        ...base,
        analytics: { client: run.client, sink: run.sink!, stageSink: run.stageSink, rules: config },
        projections: { projector: run.projector, projections: run.projections, config },
        whatIf,
        followers: run.all,
      };
    }
    const kafka = config.server.kafka;
    const ingestQueue = kafka && producer ? touchpointPublisher(producer, topicNames(kafka.topicPrefix).touchpoints, kafka.produceDeadlineMs) : undefined;
    const dashboard = await dashboardAssets();
    await beforeListen();
    // the server closes first (finishing in-flight requests), then everything opened above, in reverse
    const server = await startServer(
      {
        ...deps,
        logger: { level: 'info', redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] },
        ...(ingestQueue ? { ingestQueue } : {}),
        ...(dashboard ? { dashboard: { root: dashboard } } : {}),
      },
      { host: settings.host, port: settings.port },
      () => closer.close(),
    );
    const bound = server.server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : settings.port;
    return { role: replica ? 'api-replica' : 'embedded', analyticsBackend, dashboard: dashboard !== undefined, port };
  });
}

/** The dashboard's build, made first when it is missing or older than its sources; without one the API still serves. */
async function dashboardAssets(): Promise<string | undefined> {
  try {
    return await ensureDashboardBuilt((line) => console.error(`sluice: ${line}`));
  } catch (err) {
    console.error(`sluice: the dashboard could not be built, serving the API without it: ${(err as Error).message}`);
    return undefined;
  }
}
