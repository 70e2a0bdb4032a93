import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { followerGauges, prometheusText } from '@sluice/follower';
import type { Follower } from '@sluice/follower';
import { projectionMetrics } from '@sluice/projector';
import { ReadModelsPartitionError } from '@sluice/read-models-postgres';
import type { Projector } from '@sluice/projector';
import { Closer } from '../closer.js';
import { startLogFollowers } from '../followers.js';
import type { EngineSettings } from '../followers.js';
import { openConfiguredEventStore } from '../stores.js';
import { type HeldLease, type LeaseTable, holdLease, openLeaseTable } from './leases.js';
import { type PartitionSlot, leaseKey, ownsLeadIn } from './partitions.js';

export class ProjectorConfigError extends Error {}

export interface ProjectorProcessOptions {
  /** scale-out: project only this slot's leads, holding its lease */
  slot?: PartitionSlot | undefined;
}

/** What /healthz reports: each follower's committed position against the log's head. */
export interface ProjectorHealth {
  readonly head: number;
  readonly projector: number;
  /** undefined in an instance that does not run the touchpoint sink (partitions other than 0) */
  readonly touchpoints: number | undefined;
  /** the projector checkpoint ClickHouse's stage tables hold */
  readonly stageTables: number;
  /** the projector checkpoint the read models' copy in PostgreSQL holds (what API replicas read); undefined without server.readModels there */
  readonly readModelsCopy: number | undefined;
  readonly partition: string | undefined;
}

/**
 * The projector as its own process (distributed mode), from the same
 * configuration as the other processes: follows the configured event store,
 * keeps its read models in the data directory, runs the ClickHouse touchpoint
 * and stage-table sinks, copies the read models into PostgreSQL when
 * server.readModels is there (for API replicas), publishes lead changes when
 * Kafka is configured,
 * and serves /healthz and /metrics on `server.projector.port`. SIGTERM or
 * SIGINT stop following, flush, and close the stores; SIGKILL loses nothing
 * either (each follower resumes from its committed checkpoint).
 *
 * With a slot (`--partitions i/N`) the instance first holds slot i's lease in
 * PostgreSQL (waiting as a standby while another instance holds it) and
 * projects only the leads that hash to i; the touchpoint sink, which is per
 * event rather than per lead, runs in partition 0 alone.
 */
export async function runProjectorProcess(settings: EngineSettings, options: ProjectorProcessOptions = {}): Promise<void> {
  const { config, dataDir } = settings;
  const { eventStore, kafka: kafkaConfig, host } = config.server;
  const { port, leaseSeconds } = config.server.projector;
  const { slot } = options;
  if (slot !== undefined && eventStore.adapter !== 'postgres') throw new ProjectorConfigError('--partitions needs the PostgreSQL event store (server.eventStore or SLUICE_POSTGRES_URL): the leases live there');
  if (slot !== undefined && slot.count > 1 && config.server.readModels.adapter === 'postgres') throw new ProjectorConfigError(new ReadModelsPartitionError(slot).message);
  mkdirSync(dataDir, { recursive: true });
  const closer = new Closer();
  const store = closer.add(await openConfiguredEventStore(eventStore, dataDir), (s) => s.close());
  await closer.guard(async () => {
    if (slot !== undefined && eventStore.adapter === 'postgres') {
      const leases = closer.add(await openLeaseTable({ connectionString: eventStore.url, schema: eventStore.schema, owner: `${hostname()}:${process.pid}` }), (l) => l.close());
      closer.add(await holdSlot(leases, slot, leaseSeconds), (lease) => lease.stop());
    }
    // one file per slot: a data directory reused under another layout starts its own read models
    const share = slot === undefined ? undefined : { ownsLead: ownsLeadIn(slot), fileSuffix: `-p${slot.index}of${slot.count}`, touchpoints: slot.index === 0, partition: slot };
    const run = await startLogFollowers(closer, store, settings, { kafkaClientId: `${kafkaConfig?.clientId ?? 'sluice'}-projector`, ...(share ? { share } : {}) });
    const { projector, sink, stageSink, client } = run;
    const health = async (): Promise<ProjectorHealth> => ({
      head: await store.headPosition(),
      projector: projector.position,
      touchpoints: sink?.position,
      stageTables: stageSink.position,
      readModelsCopy: run.replicator?.position,
      partition: slot === undefined ? undefined : leaseKey(slot),
    });
    const server = closer.add(await serveHealth(host, port, health, () => metricsText(projector, stageSink, run.all)), (s) => new Promise<void>((resolve) => s.close(() => resolve())));
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    const who = slot === undefined ? 'every lead' : `the leads of partition ${leaseKey(slot)}`;
    console.log(`projector: following the ${eventStore.adapter} store for ${who} (analytics on ${client.backend}); health on http://${host}:${bound}/healthz`);
  });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`projector: ${signal}: stopping`);
    closer.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('projector: shutdown failed:', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** A follower that stopped leaves the process without its work: exit, and let the supervisor restart it from the checkpoints. */
function fail(what: string, err: unknown): never {
  console.error(`projector: ${what}:`, err);
  process.exit(1);
}

async function holdSlot(leases: LeaseTable, slot: PartitionSlot, seconds: number): Promise<HeldLease> {
  return holdLease(leases, leaseKey(slot), seconds, {
    onWaiting: () => console.log(`projector: partition ${leaseKey(slot)} is held by another instance; standing by until its lease runs out`),
    // another instance may be projecting these leads now: stop at once rather than race it
    onLost: (reason) => fail('lost the partition lease', new Error(reason)),
  });
}

function serveHealth(host: string, port: number, health: () => Promise<ProjectorHealth>, metrics: () => Promise<string>): Promise<Server> {
  const server = createServer((request, response) => {
    const answer = request.url === '/healthz' ? health().then((h) => ({ type: 'application/json', body: JSON.stringify(h) })) : request.url === '/metrics' ? metrics().then((body) => ({ type: 'text/plain; version=0.0.4', body })) : undefined;
    if (answer === undefined) return void response.writeHead(404).end();
    answer.then(
      ({ type, body }) => response.writeHead(200, { 'content-type': type }).end(body),
      (err: unknown) => response.writeHead(500).end(String(err)),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** Prometheus text: the projection's lag gauges, the stage tables' checkpoint, and each follower's gauges as the API serves them. */
async function metricsText(projector: Projector, stageSink: Follower, followers: readonly Follower[]): Promise<string> {
  const samples = [
    ...(await projectionMetrics(projector)),
    { name: 'sluice_stage_tables_position', help: 'Projector checkpoint the ClickHouse stage tables hold', value: stageSink.position },
  ];
  return samples.map((s) => `# HELP ${s.name} ${s.help}\n# TYPE ${s.name} gauge\n${s.name} ${s.value}\n`).join('') + prometheusText(followerGauges(followers));
}
