import type { EventStore, RecordedEvent } from '@sluice/event-store';
import { ItemFailed, isTransient, messageOf } from '@sluice/follower';
import type { RuleConfig } from '@sluice/schemas';
import { Projection } from './engine/projection.js';
import { type ProjectionStore, bindConfig, clearProjections, createListingIndexes } from './store/projection-store.js';

export interface ReplayProgress {
  /** last position applied */
  readonly position: number;
  /** the position the replay runs to (the log's head when it started) */
  readonly until: number;
  /** events applied so far */
  readonly events: number;
}

export interface ReplayOptions {
  /** events per read (default 1,000: a batch stays alive while it is projected, and smaller ones die young) */
  batchSize?: number;
  /** positions between flushes (default 50,000) */
  flushEvery?: number;
  /** subjects kept in memory (default 100,000) */
  cacheSize?: number;
  /** called after every batch */
  onProgress?: (progress: ReplayProgress) => void;
}

export interface ReplayResult {
  /** the last position applied (the head when the replay started) */
  readonly position: number;
  readonly events: number;
  readonly seconds: number;
}

/**
 * Reads the log once, from the projections' checkpoint (all at the same one)
 * to the head as of the start, and feeds every batch to each projection. An
 * event a projection cannot apply is parked in its store and passed, as the
 * live projector does; a failure of a store ends the replay.
 */
export async function replayLog(store: EventStore, projections: readonly Projection[], options: ReplayOptions = {}): Promise<ReplayResult> {
  const started = performance.now();
  const batchSize = options.batchSize ?? 1000;
  const flushEvery = options.flushEvery ?? 50_000;
  const until = await store.headPosition();
  let after = Math.min(...projections.map((p) => p.position));
  let events = 0;
  while (after < until) {
    const batch = await store.readAll({ after, maxCount: batchSize });
    if (batch.length === 0) break;
    const upTo = batch.at(-1)!.position <= until ? batch : batch.filter((e) => e.position <= until);
    for (const p of projections) {
      await applyParking(p, upTo);
      if (p.pending >= flushEvery) p.flush();
    }
    events += upTo.length;
    after = upTo.at(-1)?.position ?? until;
    options.onProgress?.({ position: after, until, events });
    if (upTo.length < batch.length) break;
  }
  for (const p of projections) p.flush();
  return { position: after, events, seconds: (performance.now() - started) / 1000 };
}

/** Applies a batch to a projection, parking each event it cannot take (the follower's per-event path, without its retries). */
async function applyParking(projection: Projection, events: readonly RecordedEvent[]): Promise<void> {
  for (let rest = events; rest.length > 0; ) {
    try {
      await projection.apply(rest);
      return;
    } catch (err) {
      if (!(err instanceof ItemFailed)) throw err;
      if (isTransient(err.cause)) throw err.cause;
      projection.park(rest[err.index]!, messageOf(err.cause));
      rest = rest.slice(err.index + 1);
    }
  }
}

export interface RebuildOptions extends ReplayOptions {
  store: EventStore;
  /** emptied, then rebuilt; to keep serving the old models meanwhile, rebuild into a new file and swap */
  projections: ProjectionStore;
  config: RuleConfig;
}

export interface RebuildResult extends ReplayResult {
  /** events parked in this build (parkedInProjections lists them) */
  readonly parked: number;
}

/**
 * Rebuilds every read model from the log under `config`: empties the store
 * (parked events included: they are tried again), replays the log up to its
 * head as of the start, commits. Deterministic: the same log and rules give
 * the same `contentHash`. A projector started afterwards picks up from there.
 */
export async function rebuild(options: RebuildOptions): Promise<RebuildResult> {
  const { store, projections, config } = options;
  clearProjections(projections, true);
  bindConfig(projections, config);
  const projection = new Projection({ projections, store, config, cacheSize: options.cacheSize ?? 100_000, recordChanges: false });
  try {
    const replayed = await replayLog(store, [projection], options);
    return { ...replayed, parked: projections.db.prepare<[], number>('SELECT COUNT(*) FROM parked_events').pluck().get()! };
  } finally {
    // also after a failure: what was committed is a consistent prefix a projector can continue from
    createListingIndexes(projections);
  }
}
