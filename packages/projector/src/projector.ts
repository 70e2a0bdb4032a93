import { type EventStore, type RecordedEvent, logSource } from '@sluice/event-store';
import { type Follower, type FollowerOptions, startFollower } from '@sluice/follower';
import type { RuleConfig } from '@sluice/schemas';
import { type ChangeFeedItem, ChangeSignal, followChanges } from './changes.js';
import { Projection } from './engine/projection.js';
import { type ProjectionStore, bindConfig } from './store/projection-store.js';

export interface ProjectorOptions extends Pick<FollowerOptions<RecordedEvent>, 'onParked' | 'onRetry' | 'retry'> {
  /** the event store: catch-up from the checkpoint, then the live tail */
  store: EventStore;
  projections: ProjectionStore;
  /** the live rules; a store built under other rules is refused (ProjectionConfigMismatchError, thrown): rebuild it */
  config: RuleConfig;
  /** the follower's name in its status and in parked_events (default 'projector') */
  name?: string;
  /** events per read (default 2,000) */
  batchSize?: number;
  /** flush at least every this many positions while catching up (default 20,000); a caught-up projector flushes every batch */
  flushEvery?: number;
  /** subjects kept in memory (default 100,000); others are folded again from their streams when they come back */
  cacheSize?: number;
  /** how many of the newest derived changes the feed keeps for resuming clients (default 10,000); older ones are told as changes_lost */
  changeRetention?: number;
  /** scale-out: the leads this instance projects (default all); see ProjectionOptions.ownsLead */
  ownsLead?: (leadId: string) => boolean;
  /** after every batch applied in memory and every flush (a progress bar's events; status() has the rest) */
  onProgress?: (progress: ProjectorProgress) => void;
}

export interface ProjectorProgress {
  /** last position applied in memory */
  readonly applied: number;
  /** last position whose effect is committed */
  readonly position: number;
  readonly flushed: boolean;
}

export interface ProjectionLag {
  /** positions between the checkpoint and the log's head */
  readonly events: number;
  /** how long the oldest event not yet projected has been in the log (0 when caught up) */
  readonly seconds: number;
}

/** How far `position` stands behind the log's head: the events not yet in, and how long the oldest of them has waited since it was recorded. */
export async function lagBehindLog(store: EventStore, position: number): Promise<ProjectionLag> {
  const head = await store.headPosition();
  if (head <= position) return { events: 0, seconds: 0 };
  const [oldest] = await store.readAll({ after: position, maxCount: 1 });
  const seconds = oldest === undefined ? 0 : Math.max(0, (Date.now() - Date.parse(oldest.recordedAt)) / 1000);
  return { events: head - position, seconds };
}

/**
 * The projector is a follower of the log (status(), caughtUp(), stop(), the
 * committed `position`); caughtUp() also rejects when the read models are
 * ahead of the log (built from another one).
 */
export interface Projector extends Follower {
  lag(): Promise<ProjectionLag>;
  /**
   * derived changes after `afterSeq` (default: from now on), then live ones, until the projector stops (SSE ids are the seq);
   * a changes_lost item first wherever changes after the follower's position were trimmed or cleared before it read them
   */
  changes(afterSeq?: number): AsyncGenerator<ChangeFeedItem, void, undefined>;
}

/**
 * Runs the projector in this process, a follower of the log
 * (@sluice/follower): the projection applies batches in memory and flushes
 * (read models + checkpoint in one transaction) every `flushEvery` positions
 * and whenever the follower reaches the head. An event it cannot apply is
 * parked (parked_events in the read models' file, with the reason) and
 * passed; a failure of the file itself (disk full) is retried from the
 * committed checkpoint with a fresh projection, since memory then no longer
 * matches the file. After a crash it resumes from the committed checkpoint
 * and replays the rest to the same result.
 */
export function startProjector(options: ProjectorOptions): Projector {
  const { store, projections, config } = options;
  bindConfig(projections, config);
  const name = options.name ?? 'projector';
  const flushEvery = options.flushEvery ?? 20_000;
  const newProjection = () =>
    new Projection({
      projections,
      store,
      config,
      follower: name,
      cacheSize: options.cacheSize ?? 100_000,
      recordChanges: true,
      ...(options.changeRetention !== undefined ? { changeRetention: options.changeRetention } : {}),
      ...(options.ownsLead ? { ownsLead: options.ownsLead } : {}),
    });
  /** undefined after a failed flush, until a new one is built from the checkpoint (which may fail too while the file does) */
  let projection: Projection | undefined;
  const current = () => (projection ??= newProjection());
  const signal = new ChangeSignal();
  const progress = (p: Projection, flushed: boolean) => options.onProgress?.({ applied: p.position, position: p.durablePosition, flushed });
  const flush = (p: Projection) => {
    try {
      p.flush();
    } catch (err) {
      projection = undefined;
      throw err;
    }
    signal.notify();
    progress(p, true);
    return p.durablePosition;
  };

  // read models ahead of the log were built from another one: never followed, and caughtUp() says why
  let checked: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  const verified = new Promise<void>((resolve, reject) => (checked = { resolve, reject }));
  verified.catch(() => undefined);
  let refusal: Error | undefined;

  const follower = startFollower<RecordedEvent>({
    name,
    source: logSource(store),
    batchSize: options.batchSize ?? 2000,
    ...(options.onParked ? { onParked: options.onParked } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    target: {
      // apply names the event it cannot take (ItemFailed); anything else is the file's or the store's trouble
      unattributed: 'reported',
      checkpoint: async () => {
        const position = current().durablePosition;
        const head = await store.headPosition();
        if (position > head) refusal ??= new Error(`the read models are at log position ${position} but the event store ends at ${head}: they were built from another log; rebuild them`);
        if (refusal) {
          checked?.reject(refusal);
          throw refusal;
        }
        checked?.resolve();
        return position;
      },
      apply: async (events) => {
        const p = current();
        await p.apply(events);
        if (p.pending >= flushEvery) return flush(p);
        progress(p, false);
        return p.durablePosition;
      },
      flush: async () => flush(current()),
      reset: async () => {
        projection = undefined;
        return current().durablePosition;
      },
      park: async (event, reason) => {
        const p = current();
        p.park(event, reason);
        return p.durablePosition;
      },
    },
  });

  return {
    name,
    get position() {
      return follower.position;
    },
    status: () => follower.status(),
    async caughtUp(target?: number) {
      await verified;
      return follower.caughtUp(target);
    },
    async stop() {
      await follower.stop();
      checked?.reject(new Error(`projector ${name} stopped before it started`));
      signal.close();
    },
    lag: () => lagBehindLog(store, follower.position),
    changes: (afterSeq) => followChanges(projections, signal, afterSeq),
  };
}
