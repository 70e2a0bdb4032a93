import type { StageStateCursor, StageStateHead, StageStateSource, SubjectStageState } from '@sluice/domain';
import type { AnalyticsClient } from './client.js';
import { readSinkCheckpoint, writeSinkCheckpoint } from './sink.js';
import { applyLeadProfiles, leadProfileOf, replaceActorTransitions } from './stage-tables.js';

/**
 * The stage-table sink: keeps ClickHouse's stage_transitions and lead_profile
 * of the live config equal to the projector's read models.
 *
 * Why a port: the read models belong to @sluice/projector, which must not
 * depend on ClickHouse, and this package must not depend on the projector
 * (the API and the CLI depend on both). So the sink reads through
 * `StageStateSource` (@sluice/domain, beside the types it is made of), which
 * `stageStateSource(projections)` in @sluice/projector implements, and the
 * CLI composes the two.
 *
 * How it stays exact: the source marks every subject with the projector
 * checkpoint of the flush that last wrote it. A pass reads the projector's
 * checkpoint P', then every subject changed after the sink's own checkpoint P
 * and up to P', and writes each one's WHOLE current state (every transition
 * it holds; every other stage ClickHouse holds for it removed; its profile)
 * versioned by the checkpoint the page was read at. Only then does the sink's
 * checkpoint (a `sink_checkpoints` row) move to P'. A crash anywhere before
 * that replays the pass: the rows it rewrites carry the same or newer state
 * at the same or a higher version, so no answer changes and nothing is
 * counted twice. A subject that changes during a pass gets a mark above P'
 * and is written again by the next one.
 *
 * Builds: the checkpoint is kept per rule version and build of the read
 * models, so a rebuild starts a new, complete pass. The rows of an older
 * build of the same rule version carry versions up to its last checkpoint,
 * which a rebuild of the same log reaches again: a first pass waits until the
 * projector has got there, so its rows win (at equal versions the later
 * insert does).
 */

export interface StageSyncResult {
  /** the checkpoint's key (undefined while the read models were never built) */
  readonly name: string | undefined;
  /** the sink's checkpoint before and after the pass (equal when there was nothing to do or it had to wait) */
  readonly from: number;
  readonly to: number;
  readonly subjects: number;
  /** a first pass for a build waits until the projector reaches the newest version ClickHouse holds for the rules */
  readonly waitingFor?: number;
}

export interface StageSinkOptions {
  /** subjects per read and insert (default 2,000) */
  pageSize?: number;
  /** called after each page is written, before the checkpoint moves (progress; tests use it to kill mid-pass) */
  onPage?: (page: { position: number; subjects: number }) => void;
}

const DEFAULT_PAGE_SIZE = 2000;
const SINK_NAME_PREFIX = 'stage_tables';

/** The sink_checkpoints key of a build: `stage_tables/<config version>/<build>`. */
export function stageSinkName(head: Pick<StageStateHead, 'build'> & { configVersion: string }): string {
  return `${SINK_NAME_PREFIX}/${head.configVersion}/${head.build}`;
}

/** Writes subjects' whole state at a version (idempotent; see the module comment). */
export async function applyStageStates(client: AnalyticsClient, configVersion: string, subjects: readonly SubjectStageState[], version: number): Promise<void> {
  await replaceActorTransitions(client, { configVersion, actors: subjects, version });
  await applyLeadProfiles(client, subjects.map(leadProfileOf), version);
}

/** The newest version ClickHouse holds for a rule version (0 for none). */
async function newestStageVersion(client: AnalyticsClient, configVersion: string): Promise<number> {
  const rows = await client.rows<{ version: number | string }>(
    `SELECT greatest((SELECT max(version) FROM stage_transitions WHERE config_version = {cv:String}),
                     (SELECT max(version) FROM lead_profile WHERE config_version = {cv:String})) AS version`,
    { cv: configVersion },
  );
  return Number(rows[0]?.version ?? 0);
}

/**
 * One pass: everything the projector has committed (as of the call) that the
 * sink has not, then the checkpoint. `known` spares the checkpoint read when
 * the caller already knows it (the live sink is its only writer).
 */
export async function syncStageTables(source: StageStateSource, client: AnalyticsClient, options: StageSinkOptions & { known?: { name: string; position: number } } = {}): Promise<StageSyncResult> {
  const head = await source.head();
  if (head.configVersion === undefined) return { name: undefined, from: 0, to: 0, subjects: 0 };
  const name = stageSinkName({ build: head.build, configVersion: head.configVersion });
  const from = options.known?.name === name ? options.known.position : await readSinkCheckpoint(client, name);
  if (from >= head.position) return { name, from, to: from, subjects: 0 };
  if (from === 0) {
    const newest = await newestStageVersion(client, head.configVersion);
    if (head.position < newest) return { name, from, to: from, subjects: 0, waitingFor: newest };
  }
  const limit = options.pageSize ?? DEFAULT_PAGE_SIZE;
  let cursor: StageStateCursor | undefined;
  let subjects = 0;
  do {
    const page = await source.read({ after: from, until: head.position, limit, cursor });
    // rebuilt meanwhile: the next pass starts over under the new build
    if (page.build !== head.build) return { name, from, to: from, subjects };
    await applyStageStates(client, head.configVersion, page.subjects, page.position);
    subjects += page.subjects.length;
    options.onPage?.({ position: page.position, subjects: page.subjects.length });
    cursor = page.next;
  } while (cursor !== undefined);
  await writeSinkCheckpoint(client, name, head.position);
  return { name, from, to: head.position, subjects };
}

export interface StageTableSink {
  /** the projector checkpoint the stage tables last caught up with (the sink's own checkpoint) */
  readonly position: number;
  /**
   * Resolves once ClickHouse's stage tables hold everything the projector
   * had committed at the time of the call; rejects if the sink stops first.
   */
  caughtUp(): Promise<void>;
  /** finishes the pass under way and stops */
  stop(): Promise<void>;
}

interface Waiter {
  name: string | undefined;
  target: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The live stage-table sink: a pass, then a sleep until `pollIntervalMs`
 * passes or `caughtUp()` asks, and so on. Polling rather than a callback from
 * the projector, so the projector may run in another process. A pass that
 * fails stops the sink (reported to `onError`, waiters rejected) at its last
 * checkpoint; restarting resumes from there.
 */
export function runStageTableSink(
  source: StageStateSource,
  client: AnalyticsClient,
  options: StageSinkOptions & { pollIntervalMs?: number; onPass?: (result: StageSyncResult) => void; onError?: (err: unknown) => void } = {},
): StageTableSink {
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  let known: { name: string; position: number } | undefined;
  let stopping = false;
  let failure: { err: unknown } | undefined;
  let waiters: Waiter[] = [];
  let woken = false;
  let endSleep: (() => void) | undefined;

  const wake = () => {
    woken = true;
    endSleep?.();
  };
  const settle = (synced: StageSyncResult) => {
    waiters = waiters.filter((w) => {
      if (w.name !== synced.name || synced.to < w.target) return true;
      w.resolve();
      return false;
    });
  };

  const loop = async () => {
    while (!stopping) {
      woken = false;
      try {
        const result = await syncStageTables(source, client, { ...options, ...(known ? { known } : {}) });
        if (result.name !== undefined) known = { name: result.name, position: result.to };
        options.onPass?.(result);
        settle(result);
      } catch (err) {
        failure = { err };
        if (options.onError) options.onError(err);
        else console.error(`sluice stage-table sink stopped at position ${known?.position ?? 0}:`, err);
        break;
      }
      if (woken || stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs);
        endSleep = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      endSleep = undefined;
    }
    const reason = failure?.err ?? new Error(`stage-table sink stopped at position ${known?.position ?? 0}`);
    for (const w of waiters) w.reject(reason);
    waiters = [];
  };
  const done = loop();

  return {
    get position() {
      return known?.position ?? 0;
    },
    async caughtUp() {
      const head = await source.head();
      if (head.configVersion === undefined) return;
      const name = stageSinkName({ build: head.build, configVersion: head.configVersion });
      if (known?.name === name && known.position >= head.position) return;
      if (failure) throw failure.err;
      if (stopping) throw new Error(`stage-table sink stopped at position ${known?.position ?? 0}`);
      const waiting = new Promise<void>((resolve, reject) => waiters.push({ name, target: head.position, resolve, reject }));
      wake();
      return waiting;
    },
    async stop() {
      stopping = true;
      wake();
      await done;
    },
  };
}
