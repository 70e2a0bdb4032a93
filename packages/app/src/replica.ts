import { DEFAULT_SINK_NAME, createAnalyticsClient, readSinkCheckpoint, stageSinkName } from '@sluice/analytics';
import type { AnalyticsClient } from '@sluice/analytics';
import type { EventStore } from '@sluice/event-store';
import type { Follower, FollowerStatus } from '@sluice/follower';
import type { KafkaProducer } from '@sluice/kafka';
import { lagBehindLog } from '@sluice/projector';
import type { ChangeFeedItem, Projector, ReadModels } from '@sluice/projector';
import { openPostgresReadModels } from '@sluice/read-models-postgres';
import type { Closer } from './closer.js';
import { openKafkaProducer } from './followers.js';
import type { EngineSettings } from './followers.js';

/** How often a replica looks at the checkpoints another process writes (what its answers' freshness is measured by). */
const WATCH_INTERVAL_MS = 250;

/** What the API of a replica reads: the read models and ClickHouse that the projector process writes, each with the position it stands at. */
export interface ReplicaReadSide {
  /** the read models in PostgreSQL, and their checkpoint seen as a follower's position */
  projections: { projector: Projector; readModels: ReadModels; config: EngineSettings['config'] };
  /** ClickHouse, with the sinks' checkpoints seen as their positions; undefined without a ClickHouse server (chDB is one process's) */
  analytics: { client: AnalyticsClient; sink: Follower; stageSink: Follower; rules: EngineSettings['config'] } | undefined;
  producer: KafkaProducer | undefined;
  /** what /readyz and /metrics list for a replica: the checkpoints it watches (named `watched:<follower>`), none of them run here */
  watched: Follower[];
}

/** How a replica names a checkpoint it watches: the projector process's follower of that name, not one of its own. */
export const watchedName = (follower: string) => `watched:${follower}`;

/**
 * The api-replica role's read side: it runs no follower. Where a follower
 * would stand, it watches the checkpoint the projector process commits (the
 * read models' in PostgreSQL, the ClickHouse sinks' in ClickHouse), so an
 * answer's freshness is that checkpoint against the log's head and a replica
 * says caughtUp: false while the projector lags, as the embedded server does
 * while its own followers do.
 */
export async function openReplicaReadSide(closer: Closer, store: EventStore, settings: EngineSettings): Promise<ReplicaReadSide> {
  const { config } = settings;
  const choice = config.server.readModels;
  if (choice.adapter !== 'postgres') throw new Error('an API replica reads the read models in PostgreSQL (server.readModels.adapter "postgres", or SLUICE_READ_MODELS_URL)');
  const readModels = closer.add(await openPostgresReadModels({ connectionString: choice.url, schema: choice.schema, store, rules: config }), (r) => r.close());
  const logHead = () => store.headPosition();
  const projector = closer.add(readModelsWatch(readModels, store), (w) => w.stop());
  let analytics: ReplicaReadSide['analytics'];
  if (settings.clickhouseUrl === undefined) {
    console.error('sluice: an API replica reads ClickHouse only as a server (CLICKHOUSE_URL): without one it serves the read models and no ClickHouse query');
  } else {
    // migrations are the projector process's, which writes these tables
    const client = closer.add(createAnalyticsClient({ url: settings.clickhouseUrl, dataPath: settings.dataDir }), (c) => c.close());
    const sink = closer.add(checkpointWatch(watchedName('touchpoints'), () => readSinkCheckpoint(client, DEFAULT_SINK_NAME), logHead), (w) => w.stop());
    const stageSink = closer.add(
      checkpointWatch(
        watchedName('stage_tables'),
        async () => {
          // the stage tables of the build and rules the read models stand at
          const head = await readModels.head();
          return head.configVersion === undefined ? head.position : readSinkCheckpoint(client, stageSinkName({ build: head.build, configVersion: head.configVersion }));
        },
        logHead,
      ),
      (w) => w.stop(),
    );
    analytics = { client, sink, stageSink, rules: config };
  }
  const producer = config.server.kafka === undefined ? undefined : await openKafkaProducer(closer, config.server.kafka, config.server.kafka.clientId);
  return { projections: { projector, readModels, config }, analytics, producer, watched: [projector, ...(analytics ? [analytics.sink, analytics.stageSink] : [])] };
}

/**
 * A checkpoint another process commits, seen as a follower: its position is
 * the checkpoint as last read, caughtUp() waits for it to reach a log
 * position. It applies nothing and parks nothing.
 */
export function checkpointWatch(name: string, checkpoint: () => Promise<number>, logHead: () => Promise<number>): Follower {
  let position = 0;
  let head = 0;
  let stopped = false;
  let failure: FollowerStatus['failure'];
  const waiters = new Set<{ target: number; resolve: () => void; reject: (err: Error) => void }>();
  let timer: NodeJS.Timeout | undefined;
  const look = async () => {
    try {
      [position, head] = await Promise.all([checkpoint(), logHead()]);
      failure = undefined;
    } catch (err) {
      // a database away for a moment: the last position stands, and the status says why it is not moving
      failure = { reason: (err as Error).message, since: failure?.since ?? new Date().toISOString(), attempts: (failure?.attempts ?? 0) + 1 };
    }
    for (const w of waiters) {
      if (position < w.target) continue;
      waiters.delete(w);
      w.resolve();
    }
    if (!stopped) timer = setTimeout(() => void look(), WATCH_INTERVAL_MS);
  };
  const first = look();
  return {
    name,
    get position() {
      return position;
    },
    status: () => ({ name, state: stopped ? 'stopped' : failure ? 'retrying' : position >= head ? 'live' : 'catching_up', position, head, parkedSinceStart: 0, ...(failure ? { failure } : {}) }),
    async caughtUp(target) {
      await first;
      const goal = target ?? (await logHead());
      if (position >= goal) return;
      if (stopped) throw new Error(`${name} is no longer watched`);
      return new Promise((resolve, reject) => waiters.add({ target: goal, resolve, reject }));
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await first;
      for (const w of waiters) w.reject(new Error(`${name} is no longer watched`));
      waiters.clear();
    },
  };
}

/**
 * The read models' checkpoint as the API's routes take a projector: its
 * position, its lag behind the log, and the change feed (GET /v1/stream),
 * read from the read models' own feed as the projector process fills it.
 */
function readModelsWatch(readModels: ReadModels, store: EventStore): Projector {
  const watch = checkpointWatch(watchedName('projector'), async () => (await readModels.head()).position, () => store.headPosition());
  const streams = new Set<() => void>();
  return {
    ...watch,
    get position() {
      return watch.position;
    },
    async stop() {
      for (const end of streams) end();
      await watch.stop();
    },
    lag: () => lagBehindLog(store, watch.position),
    changes: (afterSeq) => pollChanges(readModels, afterSeq, streams),
  };
}

/**
 * The read models' change feed after `afterSeq` (default: from now on), read
 * as the projector process adds to it, until the stream is returned (a client
 * gone) or the watch stops. Returning ends a pending wait at once, so a
 * closing server is never held by an open stream.
 */
function pollChanges(readModels: ReadModels, afterSeq: number | undefined, streams: Set<() => void>): AsyncGenerator<ChangeFeedItem, void, undefined> {
  let seq = afterSeq;
  let pending: ChangeFeedItem[] = [];
  let finished = false;
  let wake: () => void = () => undefined;
  const end = () => {
    finished = true;
    streams.delete(end);
    wake();
  };
  streams.add(end);
  const done = { done: true, value: undefined } as const;
  const stream: AsyncGenerator<ChangeFeedItem, void, undefined> = {
    async next() {
      for (;;) {
        if (finished) return done;
        const change = pending.shift();
        if (change !== undefined) return { done: false, value: change };
        seq ??= await readModels.changeHead();
        pending = await readModels.readChanges(seq, 500);
        if (pending.length > 0) {
          seq = pending.at(-1)!.seq;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, WATCH_INTERVAL_MS);
        });
      }
    },
    async return() {
      end();
      return done;
    },
    async throw(err: unknown) {
      end();
      throw err;
    },
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}
