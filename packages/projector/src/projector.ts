import type { EventStore, Subscription } from '@sluice/event-store';
import type { RuleConfig } from '@sluice/schemas';
import { type ChangeFeedItem, ChangeSignal, followChanges } from './changes.js';
import { Projection } from './engine/projection.js';
import { type ProjectionStore, bindConfig } from './store/projection-store.js';

export interface ProjectorOptions {
  /** the event store: catch-up from the checkpoint, then the live tail */
  store: EventStore;
  projections: ProjectionStore;
  /** the live rules; a store built under other rules is refused (ProjectionConfigMismatchError, thrown): rebuild it */
  config: RuleConfig;
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
  onProgress?: (progress: ProjectorProgress) => void;
  /** the projector stopped on an error (it never skips an event), or found read models ahead of the log; restart it to resume from the checkpoint */
  onError?: (err: unknown) => void;
}

export interface ProjectorProgress {
  /** last position applied in memory */
  readonly applied: number;
  /** last position whose effect is committed */
  readonly position: number;
  /** the log's head when the batch was handled */
  readonly head: number;
  readonly flushed: boolean;
}

export interface ProjectionLag {
  /** positions between the checkpoint and the log's head */
  readonly events: number;
  /** how long the oldest event not yet projected has been in the log (0 when caught up) */
  readonly seconds: number;
}

export interface Projector {
  /** last position whose effect is committed */
  readonly position: number;
  /** resolves once everything in the log at the time of the call is projected and committed */
  caughtUp(): Promise<void>;
  /** stops following the log and commits what was applied; resolves when done */
  stop(): Promise<void>;
  lag(): Promise<ProjectionLag>;
  /**
   * derived changes after `afterSeq` (default: from now on), then live ones, until the projector stops (SSE ids are the seq);
   * a changes_lost item first wherever changes after the follower's position were trimmed or cleared before it read them
   */
  changes(afterSeq?: number): AsyncGenerator<ChangeFeedItem, void, undefined>;
}

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Runs the projector in this process: the subscription delivers batches after
 * the checkpoint, the projection applies them in memory and flushes (read
 * models + checkpoint in one transaction) every `flushEvery` positions and
 * whenever it reaches the head. The subscription's own position is not the
 * checkpoint: after a crash the projector resumes from the committed one, and
 * replays the rest to the same result.
 */
export function startProjector(options: ProjectorOptions): Projector {
  const { store, projections, config } = options;
  bindConfig(projections, config);
  const batchSize = options.batchSize ?? 2000;
  const flushEvery = options.flushEvery ?? 20_000;
  const projection = new Projection({ projections, store, config, cacheSize: options.cacheSize ?? 100_000, recordChanges: true, ...(options.changeRetention !== undefined ? { changeRetention: options.changeRetention } : {}), ...(options.ownsLead ? { ownsLead: options.ownsLead } : {}) });
  const signal = new ChangeSignal();
  let waiters: Waiter[] = [];
  let ended: { err: unknown } | undefined;

  const settle = () => {
    waiters = waiters.filter((w) => {
      if (projection.durablePosition < w.target) return true;
      w.resolve();
      return false;
    });
  };
  const end = (err: unknown) => {
    ended ??= { err };
    for (const w of waiters) w.reject(ended.err);
    waiters = [];
    signal.close();
  };
  const report = (err: unknown) => {
    if (options.onError) options.onError(err);
    else console.error(`sluice projector stopped at position ${projection.durablePosition}:`, err);
  };

  const subscription: Subscription = store.subscribe({
    after: projection.durablePosition,
    batchSize,
    onBatch: async (events) => {
      await projection.apply(events);
      const head = await store.headPosition();
      const flushed = projection.pending >= flushEvery || projection.position >= head;
      if (flushed) {
        projection.flush();
        signal.notify();
        settle();
      }
      options.onProgress?.({ applied: projection.position, position: projection.durablePosition, head, flushed });
    },
    onError: (err) => {
      end(err);
      report(err);
    },
  });

  // Read models ahead of the log were built from another one: stop rather than serve them as current.
  const checkpoint = projection.durablePosition;
  const checked = store.headPosition().then((head) => {
    if (checkpoint > head) throw new Error(`the read models are at log position ${checkpoint} but the event store ends at ${head}: they were built from another log; rebuild them`);
  });
  checked.catch(async (err: unknown) => {
    await subscription.stop();
    end(err);
    report(err);
  });

  return {
    get position() {
      return projection.durablePosition;
    },
    async caughtUp() {
      await checked;
      const target = await store.headPosition();
      if (projection.durablePosition >= target) return;
      if (ended) throw ended.err;
      await new Promise<void>((resolve, reject) => waiters.push({ target, resolve, reject }));
    },
    async stop() {
      await subscription.stop();
      if (!ended) {
        projection.flush();
        signal.notify();
        settle();
      }
      end(new Error(`projector stopped at position ${projection.durablePosition}`));
    },
    async lag() {
      const head = await store.headPosition();
      const position = projection.durablePosition;
      if (head <= position) return { events: 0, seconds: 0 };
      const [oldest] = await store.readAll({ after: position, maxCount: 1 });
      const seconds = oldest === undefined ? 0 : Math.max(0, (Date.now() - Date.parse(oldest.recordedAt)) / 1000);
      return { events: head - position, seconds };
    },
    changes: (afterSeq) => followChanges(projections, signal, afterSeq),
  };
}
