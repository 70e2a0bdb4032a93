import { createServer } from 'node:net';
import { join } from 'node:path';
import { reportToConsole } from '@sluice/follower';
import type { Follower } from '@sluice/follower';
import { createAnalyticsClient, migrate, runStageTableSink, runTouchpointSink } from '@sluice/analytics';
import { ProjectionConfigMismatchError, changeFeedSource, openProjectionStore, stageStateSource, startProjector } from '@sluice/projector';
import type { ChangeFeedSource } from '@sluice/projector';
import type { EventStore } from '@sluice/event-store';
import { startServer } from '@sluice/api';
import { ensureDashboardBuilt } from '@sluice/dashboard';
import type { IngestQueue } from '@sluice/api';
import { FileCursor, connectKafka, publishLeadChanges, sluiceTopics, topicNames, touchpointPublisher } from '@sluice/kafka';
import type { KafkaConfig } from '@sluice/schemas';
import { CliError } from '../output.js';
import { ensureDataDir } from '../settings.js';
import type { Settings } from '../settings.js';

/**
 * The embedded default in one process: the SQLite store, the projector (read
 * models in <dataDir>/projections.sqlite), the touchpoint sink into
 * ClickHouse (chDB in the data directory, or a server at CLICKHOUSE_URL), the
 * stage-table sink (the read models' transitions and profiles into
 * ClickHouse: @sluice/analytics reads @sluice/projector's read models through
 * a port, composed here so neither package depends on the other) and the
 * API. Closing stops the followers first, then their stores.
 *
 * With `server.kafka` configured (distributed mode) the API produces accepted
 * events to sluice.touchpoints instead of appending them (the kafka-bridge
 * process appends), and the projector's derived changes are published to
 * sluice.lead-changes with a durable cursor in the data directory.
 */
export async function serve(store: EventStore, settings: Settings, port: PortReservation): Promise<void> {
  let projections;
  try {
    // the read models live here whichever store holds the log
    ensureDataDir(settings.dataDir);
    projections = openProjectionStore(join(settings.dataDir, 'projections.sqlite'));
  } catch (err) {
    await store.close();
    throw err;
  }
  let projector;
  try {
    projector = startProjector({ store, projections, config: settings.config, ...reportToConsole('the projector') });
  } catch (err) {
    projections.close();
    await store.close();
    if (err instanceof ProjectionConfigMismatchError) throw new CliError(`${err.message}\nrun \`sluice rebuild\` to rebuild the read models under the current rules`);
    throw err;
  }
  const client = createAnalyticsClient({ url: settings.clickhouseUrl, dataPath: settings.dataDir });
  let kafka: Awaited<ReturnType<typeof startKafkaSide>> | undefined;
  try {
    // first: an unreachable broker fails the start before any follower runs
    if (settings.config.server.kafka !== undefined) kafka = await startKafkaSide(settings.config.server.kafka, changeFeedSource(projections, () => projector.changes()), settings.dataDir);
    await migrate(client);
    const sink = await runTouchpointSink(store, client, reportToConsole('the ClickHouse touchpoint sink'));
    const stageSink = runStageTableSink(stageStateSource(projections), client, reportToConsole('the ClickHouse stage-table sink'));
    const kafkaSide = kafka;
    const stopFollowers = async () => {
      await kafkaSide?.stop();
      await projector.stop();
      await stageSink.stop();
      await sink.stop();
    };
    const closeAll = async () => {
      await stopFollowers();
      projections.close();
      await client.close();
      await store.close();
    };
    const dashboard = await dashboardAssets();
    await port.release();
    await startServer(
      {
        store,
        analytics: { client, sink, stageSink, rules: settings.config },
        projections: { projector, projections, config: settings.config },
        whatIf: { store: { choice: settings.config.server.eventStore, dataDir: settings.dataDir } },
        followers: [projector, sink, stageSink, ...(kafka ? [kafka.publisher] : [])],
        freshnessWaitMs: settings.config.server.freshnessWaitMs,
        limits: settings.limits,
        apiKeys: settings.apiKeys,
        logger: { level: 'info', redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] },
        ...(kafka ? { ingestQueue: kafka.ingestQueue } : {}),
        ...(dashboard ? { dashboard: { root: dashboard } } : {}),
      },
      { host: settings.host, port: settings.port },
      closeAll,
    ).catch(async (err: unknown) => {
      await stopFollowers();
      throw err;
    });
    const address = `http://${hostPort(settings.host, settings.port)}`;
    const ingestion = kafka ? `ingest to Kafka at ${settings.config.server.kafka!.brokers.join(',')}` : `data in ${settings.dataDir}`;
    console.error(`Sluice is listening on ${address} (${ingestion}, analytics on ${client.backend}); API docs at ${address}/docs`);
    if (dashboard) console.error(`Dashboard: ${address}/`);
  } catch (err) {
    await kafka?.stop();
    await projector.stop();
    projections.close();
    await client.close();
    await store.close();
    throw new CliError((err as Error).message);
  }
}

/** The Kafka side of a distributed API process: topics, the ingest producer, the lead-change publisher. */
async function startKafkaSide(config: KafkaConfig, feed: ChangeFeedSource, dataDir: string): Promise<{ ingestQueue: IngestQueue; publisher: Follower; stop(): Promise<void> }> {
  const kafka = connectKafka({ brokers: config.brokers, clientId: config.clientId });
  await kafka.ensureTopics(sluiceTopics(config));
  const producer = await kafka.producer();
  const topics = topicNames(config.topicPrefix);
  const publisher = publishLeadChanges({
    topic: topics.leadChanges,
    feed,
    producer,
    cursor: new FileCursor(join(dataDir, 'lead-changes.cursor')),
    ...reportToConsole('the lead-changes publisher'),
  });
  return {
    ingestQueue: touchpointPublisher(producer, topics.touchpoints, config.produceDeadlineMs),
    publisher,
    stop: async () => {
      await publisher.stop();
      await producer.disconnect();
    },
  };
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

/** host:port bound until released: a port in use fails the start at once, before anything is written (the demo's events, say). */
export interface PortReservation {
  release(): Promise<void>;
}

export async function reservePort(host: string, port: number): Promise<PortReservation> {
  // a client that connects meanwhile is turned away at once: a connection held open would keep close() from finishing
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, resolve);
  }).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(cannotListen(hostPort(host, port), err));
  });
  let released: Promise<void> | undefined;
  return { release: () => (released ??= new Promise((resolve) => server.close(() => resolve()))) };
}

function cannotListen(at: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${at}: the port is in use (another \`sluice serve\`?); stop what holds it, or pick another port with --port`;
    case 'EACCES':
      return `cannot listen on ${at}: permission denied (ports below 1024 need privileges); pick another port with --port`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `cannot listen on ${at}: this machine has no such address; check --host`;
    default:
      return `cannot listen on ${at}: ${err.message}`;
  }
}

const hostPort = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;
