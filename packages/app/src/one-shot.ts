import { join } from 'node:path';
import { createAnalyticsClient, migrate, readSinkCheckpoint, stageSinkName, syncStageTables, syncTouchpoints } from '@sluice/analytics';
import type { AnalyticsClient, StageSyncResult } from '@sluice/analytics';
import type { EventStore } from '@sluice/event-store';
import { reportToConsole } from '@sluice/follower';
import { ProjectionConfigMismatchError, contentHash, openProjectionStore, rebuild, stageStateSource, startProjector } from '@sluice/projector';
import type { ProjectionStore, RebuildResult } from '@sluice/projector';
import { Closer } from './closer.js';
import type { EngineSettings } from './followers.js';

/**
 * The one-shot role (a CLI command): open the engine of the data directory,
 * bring the followers it reads up to the log's head, answer, close. Nothing
 * follows on after the answer: the next command catches up from the
 * checkpoints this one left.
 */

/** A failure the user can fix: its message says what to do (the CLI prints it as it is). */
export class EngineError extends Error {}

/** One progress line for catching several followers up (the CLI's CatchUpProgress). */
export interface CatchUpReport {
  /** a follower going from `from` to `head`; returns what to call with each position it reaches */
  follow(name: string, head: number, from?: number): (position: number) => void;
  /** the line ends; `summary`: with the figure (false after a failure) */
  done(summary?: boolean): void;
}

/** The data directory's ClickHouse (chDB, or the server at CLICKHOUSE_URL); chDB held by a running server is refused pointing at its API. */
export function openOneShotAnalytics(settings: EngineSettings & { host: string; port: number }): AnalyticsClient {
  try {
    return createAnalyticsClient({ url: settings.clickhouseUrl, dataPath: settings.dataDir });
  } catch (err) {
    throw new EngineError(`${(err as Error).message}\n(if \`sluice serve\` is running on this data directory, ask it with --url http://${settings.host}:${settings.port})`);
  }
}

/**
 * Opens the data directory's ClickHouse, copies the log's new touchpoints
 * into it and, with `stageTables`, catches the read models and the stage
 * tables up beside it (one progress line for all of them), runs the work and
 * closes everything: the store is `openStore`'s, closed here too.
 */
export async function withCaughtUpAnalytics<T>(
  openStore: () => Promise<EventStore>,
  settings: EngineSettings & { host: string; port: number },
  progress: CatchUpReport,
  work: (client: AnalyticsClient, store: EventStore) => Promise<T>,
  { stageTables = false }: { stageTables?: boolean } = {},
): Promise<T> {
  const closer = new Closer();
  const store = closer.add(await openStore(), (s) => s.close());
  try {
    const client = closer.add(openOneShotAnalytics(settings), (c) => c.close());
    // after a failure: the line cleared, no figure (after success it was ended with one below)
    closer.add(progress, (p) => p.done(false));
    await migrate(client);
    // every follower on the line before any starts, so the bar only moves forward
    const head = await store.headPosition();
    const touchpoints = progress.follow('touchpoints', head);
    if (stageTables) progress.follow('read models', head);
    const stages = stageTables ? progress.follow('stage tables', head) : undefined;
    // the touchpoints and the read models are independent: caught up side by side, the stage tables after the read models
    await allOf([
      syncTouchpoints(store, client, { ...reportToConsole('the ClickHouse touchpoint sink'), onProgress: (s) => touchpoints(s.position) }),
      stageTables ? withCaughtUpReadModels(store, settings, progress, (projections) => syncStageTablesFrom(projections, client, settings, stages)) : undefined,
    ]);
    progress.done();
    return await work(client, store);
  } finally {
    await closer.close();
  }
}

/** Waits for every one, then fails with the first failure: nothing may still be writing when the stores close. */
async function allOf(work: ReadonlyArray<Promise<unknown> | undefined>): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * The stage-table sink from the read models into ClickHouse, until it has
 * caught up (a subject it cannot write is parked, a server away or a full
 * disk waited out, both told on stderr). ClickHouse rows of these rules
 * beyond the read models' position were built from another log: that stops
 * the command rather than write older state.
 */
export async function syncStageTablesFrom(projections: ProjectionStore, client: AnalyticsClient, settings: EngineSettings, moved?: (position: number) => void): Promise<StageSyncResult> {
  if (moved) {
    // where this build's stage tables start: the sink's first word is of no build yet
    const head = await stageStateSource(projections).head();
    moved(head.configVersion === undefined ? head.position : await readSinkCheckpoint(client, stageSinkName({ build: head.build, configVersion: head.configVersion })));
  }
  const synced = await syncStageTables(stageStateSource(projections), client, { ...reportToConsole('the ClickHouse stage-table sink'), ...(moved ? { onProgress: (s) => moved(s.position) } : {}) });
  if (synced.waitingFor !== undefined) {
    throw new EngineError(
      `ClickHouse holds stage rows of rules ${settings.config.version} up to log position ${synced.waitingFor}, beyond the read models' position (${projections.state().position}): ` +
        'they were built from another log; the stage tables were left as they are (`sluice rebuild` after clearing them)',
    );
  }
  return synced;
}

/**
 * The data directory's read models, caught up with the log under the live
 * rules (on `progress`'s line; `ownsLine`: ended once caught up), for the
 * duration of `work`. The projector
 * stops before `work` runs: the answer reads a still file.
 */
export async function withCaughtUpReadModels<T>(
  store: EventStore,
  settings: EngineSettings,
  progress: CatchUpReport,
  work: (projections: ProjectionStore) => Promise<T>,
  { ownsLine = false }: { ownsLine?: boolean } = {},
): Promise<T> {
  const closer = new Closer();
  const projections = closer.add(openProjectionStore(join(settings.dataDir, 'projections.sqlite')), (p) => p.close());
  try {
    const moved = progress.follow('read models', await store.headPosition(), projections.state().position);
    let projector;
    try {
      projector = startProjector({ store, projections, config: settings.config, ...reportToConsole('the projector'), onProgress: (p) => moved(p.applied) });
    } catch (err) {
      throw rulesChanged(err);
    }
    try {
      await projector.caughtUp();
    } finally {
      await projector.stop();
      // a line of its own ends with the catch-up, before the answer is printed
      if (ownsLine) progress.done();
    }
    return await work(projections);
  } finally {
    await closer.close();
  }
}

/** Read models built under other rules: the user's to rebuild. */
export function rulesChanged(err: unknown): unknown {
  return err instanceof ProjectionConfigMismatchError ? new EngineError(`${err.message}\nrun \`sluice rebuild\` to rebuild the read models under the current rules`) : err;
}

/** What a rebuild did: the replay, the read models' content hash, and the stage tables brought to equal them. */
export interface RebuiltEngine {
  result: RebuildResult;
  contentHash: string;
  stageTables: StageSyncResult;
}

/**
 * The rebuild use case: every read model from the log under the current
 * rules (on `progress`'s line), then ClickHouse's stage tables of those rules
 * brought to equal them (the rebuild is a new build, so the stage-table sink
 * writes every subject again; other rule versions' rows stay).
 */
export async function rebuildEngine(store: EventStore, settings: EngineSettings & { host: string; port: number }, progress: CatchUpReport): Promise<RebuiltEngine> {
  const closer = new Closer();
  try {
    const projections = closer.add(openProjectionStore(join(settings.dataDir, 'projections.sqlite')), (p) => p.close());
    const head = await store.headPosition();
    const replayed = progress.follow('read models', head, 0);
    const stages = progress.follow('stage tables', head);
    const result = await rebuild({ store, projections, config: settings.config, onProgress: (p) => replayed(p.position) });
    const hash = contentHash(projections);
    const client = closer.add(openOneShotAnalytics(settings), (c) => c.close());
    await migrate(client);
    return { result, contentHash: hash, stageTables: await syncStageTablesFrom(projections, client, settings, stages) };
  } finally {
    await closer.close();
  }
}
