import { actorIdFor } from '@sluice/domain';
import type { StageStateCursor, StageStateHead, StageStateSource, SubjectStageState } from '@sluice/domain';
import { TransientFailure, messageOf, startFollower } from '@sluice/follower';
import type { Follower, FollowerOptions, FollowerStatus } from '@sluice/follower';
import type { AnalyticsClient } from './client.js';
import { parkInClickHouse } from './parked.js';
import { readSinkCheckpoint, writeSinkCheckpoint } from './sink.js';
import { applyLeadProfiles, leadProfileOf, replaceActorTransitions } from './stage-tables.js';

/**
 * The stage-table sink: keeps ClickHouse's stage_transitions and lead_profile
 * of the live config equal to the projector's read models, as a follower of
 * the engine (@sluice/follower: retries, parking, caughtUp, status).
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
 * As the engine sees it: a pass is a run of items at position P' (the
 * subjects, page by page, then a `passed` item), and only applying `passed`
 * moves the checkpoint, so the engine's durable position is always one whose
 * subjects are all written. The engine reads after the last position it
 * handed over: P' while a pass is under way (the source goes on from its
 * page cursor), the durable position after a retry (a new pass from there).
 * A subject ClickHouse refuses is parked (parked_events, follower
 * `stage_tables`, at the version it was read at) and the pass goes on; its
 * rows stay as an earlier pass left them, or half of a failed write.
 *
 * Builds: the checkpoint is kept per rule version and build of the read
 * models, so a rebuild starts a new, complete pass: one engine follower per
 * build, the next started when the projector's head names another. The rows
 * of an older build of the same rule version carry versions up to its last
 * checkpoint, which a rebuild of the same log reaches again: a first pass
 * waits (retrying, with the reason) until the projector has got there, so its
 * rows win (at equal versions the later insert does).
 */

export interface StageSyncResult {
  /** the checkpoint's key (undefined while the read models were never built) */
  readonly name: string | undefined;
  /** the sink's checkpoint before and after the catch-up (equal when there was nothing to do or it had to wait) */
  readonly from: number;
  readonly to: number;
  /** subjects written (a retried pass counts the ones it writes again) */
  readonly subjects: number;
  /** a first pass for a build waits until the projector reaches the newest version ClickHouse holds for the rules */
  readonly waitingFor?: number;
}

/** What the engine carries: a subject's whole state as read at `version`, or the end of the pass to `position`. */
export type StageSinkItem =
  | {
      readonly kind: 'subject';
      readonly state: SubjectStageState;
      readonly version: number;
      readonly position: number;
      /** read in a first pass into a config ClickHouse held no stage rows of: no other rows of the subject to remove */
      readonly intoEmpty: boolean;
    }
  | { readonly kind: 'passed'; readonly position: number };

export interface StageSinkOptions extends Pick<FollowerOptions<StageSinkItem>, 'onParked' | 'onProgress' | 'onRetry' | 'retry' | 'pollIntervalMs'> {
  /** subjects per read and insert (default 10,000) */
  pageSize?: number;
  /** called after each page is written, before the checkpoint moves (progress; tests use it to kill mid-pass) */
  onPage?: (page: { position: number; subjects: number }) => void;
  /** a first pass of a build waits for the projector to reach `newest`, the newest version ClickHouse holds for its rules (told each time it looks) */
  onWaiting?: (newest: number) => void;
}

/** each page is three statements whatever its size: 2,000 made a catch-up's stage sink cost as much CPU as the projector */
const DEFAULT_PAGE_SIZE = 10_000;
const SINK_NAME_PREFIX = 'stage_tables';

/** The sink_checkpoints key of a build: `stage_tables/<config version>/<build>`. */
export function stageSinkName(head: Pick<StageStateHead, 'build'> & { configVersion: string }): string {
  return `${SINK_NAME_PREFIX}/${head.configVersion}/${head.build}`;
}

/** The key of the build the head names; undefined before the first build. */
const keyOf = (head: StageStateHead) => (head.configVersion === undefined ? undefined : stageSinkName({ build: head.build, configVersion: head.configVersion }));

/** Writes subjects' whole state at a version (idempotent; see the module comment). */
export async function applyStageStates(client: AnalyticsClient, configVersion: string, subjects: readonly SubjectStageState[], version: number, noneHeld = false): Promise<void> {
  await replaceActorTransitions(client, { configVersion, actors: subjects, version, noneHeld });
  await applyLeadProfiles(client, subjects.map(leadProfileOf), version);
}

/** The newest version ClickHouse holds for a rule version (0 for none), and whether it holds any row of it at all. */
async function newestStageVersion(client: AnalyticsClient, configVersion: string): Promise<{ newest: number; held: boolean }> {
  const rows = await client.rows<{ version: number | string; held: number | string }>(
    `SELECT greatest((SELECT max(version) FROM stage_transitions WHERE config_version = {cv:String}),
                     (SELECT max(version) FROM lead_profile WHERE config_version = {cv:String})) AS version,
            (SELECT count() FROM stage_transitions WHERE config_version = {cv:String}) > 0 AS held`,
    { cv: configVersion },
  );
  return { newest: Number(rows[0]?.version ?? 0), held: Number(rows[0]?.held ?? 1) !== 0 };
}

/**
 * One catch-up (the CLI's one-shot commands): follows the read models until
 * ClickHouse holds everything the projector had committed at the call, then
 * stops. Same follower, same policy as the live sink. A first pass that must
 * wait for the projector returns at once with `waitingFor`.
 */
export async function syncStageTables(source: StageStateSource, client: AnalyticsClient, options: StageSinkOptions = {}): Promise<StageSyncResult> {
  const head = await source.head();
  const name = keyOf(head);
  if (name === undefined) return { name, from: 0, to: 0, subjects: 0 };
  const from = await readSinkCheckpoint(client, name);
  let subjects = 0;
  let waitingFor: number | undefined;
  let waited!: () => void;
  const waiting = new Promise<void>((resolve) => (waited = resolve));
  const sink = runStageTableSink(source, client, {
    ...options,
    onPage: (page) => {
      subjects += page.subjects;
      options.onPage?.(page);
    },
    onWaiting: (newest) => {
      waitingFor = newest;
      waited();
      options.onWaiting?.(newest);
    },
    // the wait is this call's answer, not a failure to report
    onRetry: (failure) => {
      if (waitingFor === undefined) options.onRetry?.(failure);
    },
  });
  try {
    const caughtUp = sink.caughtUp(head.position);
    // when the wait wins, stopping the sink rejects this one
    caughtUp.catch(() => undefined);
    await Promise.race([caughtUp, waiting]);
  } finally {
    await sink.stop();
  }
  return { name, from, to: sink.position, subjects, ...(waitingFor === undefined ? {} : { waitingFor }) };
}

/**
 * The live stage-table sink: a follower of the read models (polled, so the
 * projector may run in another process) for each build in turn. An item it
 * cannot write is parked and passed; a transient failure (server away, disk
 * full) is retried until it clears. `caughtUp()` resolves once ClickHouse's
 * stage tables hold everything the projector had committed at the time of the
 * call; `position` is the sink's checkpoint within the current build.
 */
export function runStageTableSink(source: StageStateSource, client: AnalyticsClient, options: StageSinkOptions = {}): Follower {
  let parkedBefore = 0;
  let stopping = false;
  let switching = Promise.resolve();
  // until its first look at the head, a follower of no build, which finds the real one
  let current = { name: undefined as string | undefined, follower: followBuild(source, client, { build: '', configVersion: undefined, position: 0 }, options, (head) => void follow(head)) };

  /** Makes the follower of the head's build the current one (the one before stops first). */
  function follow(head: StageStateHead): Promise<void> {
    switching = switching.then(async () => {
      const name = keyOf(head);
      if (stopping || current.name === name) return;
      const before = current.follower;
      try {
        await before.stop();
      } finally {
        parkedBefore += before.status().parkedSinceStart;
        current = { name, follower: followBuild(source, client, head, options, (next) => void follow(next)) };
      }
    });
    return switching;
  }

  return {
    name: SINK_NAME_PREFIX,
    get position() {
      return current.follower.position;
    },
    status(): FollowerStatus {
      const status = current.follower.status();
      return { ...status, parkedSinceStart: parkedBefore + status.parkedSinceStart };
    },
    async caughtUp(at?: number) {
      for (;;) {
        const head = await source.head();
        if (head.configVersion === undefined) return;
        await follow(head);
        const generation = current;
        try {
          return await generation.follower.caughtUp(at ?? head.position);
        } catch (err) {
          // rebuilt meanwhile: wait for the new build's follower instead
          if (stopping || generation === current) throw err;
        }
      }
    },
    async stop() {
      stopping = true;
      await switching;
      await current.follower.stop();
    },
  };
}

/** The engine follower of one build of the read models (see the module comment); tells `onOtherBuild` when the head names another. */
function followBuild(source: StageStateSource, client: AnalyticsClient, built: StageStateHead, options: StageSinkOptions, onOtherBuild: (head: StageStateHead) => void): Follower {
  const { pageSize, onPage, onWaiting, ...engine } = options;
  const name = keyOf(built);
  const configVersion = built.configVersion;
  let head = built.position;
  let durable = 0;
  /** the pass under way: subjects changed after `from` up to `until`, read up to `cursor`; `read` once its last page was */
  let pass: { from: number; until: number; cursor: StageStateCursor | undefined; read: boolean; intoEmpty: boolean } | undefined;

  /** the projector's head while it is this build's; undefined (and the switch asked for) once another build took over */
  const thisBuild = async (): Promise<StageStateHead | undefined> => {
    const now = await source.head();
    if (keyOf(now) !== name) {
      onOtherBuild(now);
      return undefined;
    }
    head = now.position;
    return now;
  };

  const startPass = async (from: number, until: number) => {
    let intoEmpty = false;
    if (from === 0 && configVersion !== undefined) {
      const { newest, held } = await newestStageVersion(client, configVersion);
      if (until < newest) {
        onWaiting?.(newest);
        throw new Error(`waiting for the read models to reach position ${newest} (they are at ${until}): ClickHouse holds stage rows of rules ${configVersion} up to it from an earlier build, which win until then`);
      }
      // a pass writes each subject once, and this sink is the only writer of its rules' rows: nothing of anyone it writes is there to remove
      intoEmpty = !held;
    }
    pass = { from, until, cursor: undefined, read: false, intoEmpty };
    return pass;
  };

  return startFollower<StageSinkItem>({
    ...engine,
    name: SINK_NAME_PREFIX,
    batchSize: pageSize ?? DEFAULT_PAGE_SIZE,
    source: {
      head: async () => {
        await thisBuild();
        return head;
      },
      positionOf: (item) => item.position,
      read: async (after, max) => {
        const now = await thisBuild();
        if (now === undefined || configVersion === undefined) return [];
        const continuing = pass !== undefined && !pass.read && after === pass.until;
        if (!continuing && after >= now.position) return [];
        const reading = continuing ? pass! : await startPass(after, now.position);
        const page = await source.read({ after: reading.from, until: reading.until, limit: max, cursor: reading.cursor });
        // rebuilt between the head and the page: the next look at the head switches builds
        if (page.build !== built.build) return [];
        reading.cursor = page.next;
        const items: StageSinkItem[] = page.subjects.map((state) => ({ kind: 'subject', state, version: page.position, position: reading.until, intoEmpty: reading.intoEmpty }));
        if (page.next === undefined) {
          reading.read = true;
          items.push({ kind: 'passed', position: reading.until });
        }
        return items;
      },
    },
    target: {
      // writing a subject's whole state again at the same version changes nothing, so the engine may retry parts of a page to find a bad one
      unattributed: 'isolate',
      checkpoint: async () => (durable = name === undefined ? 0 : await readSinkCheckpoint(client, name)),
      apply: async (items) => {
        const byVersion = new Map<number, { states: SubjectStageState[]; intoEmpty: boolean }>();
        let passed: number | undefined;
        for (const item of items) {
          if (item.kind === 'passed') passed = item.position;
          else {
            const page = byVersion.get(item.version);
            if (page === undefined) byVersion.set(item.version, { states: [item.state], intoEmpty: item.intoEmpty });
            else page.states.push(item.state);
          }
        }
        for (const [version, { states, intoEmpty }] of byVersion) {
          await applyStageStates(client, configVersion!, states, version, intoEmpty);
          onPage?.({ position: version, subjects: states.length });
        }
        if (passed !== undefined) {
          // a checkpoint ClickHouse will not take is its trouble, not an item's: retried, never parked
          await writeSinkCheckpoint(client, name!, passed).catch((err: unknown) => {
            throw new TransientFailure(`the stage-table checkpoint could not be written: ${messageOf(err)}`, { cause: err });
          });
          durable = passed;
        }
        return durable;
      },
      park: async (item, reason) => {
        if (item.kind === 'subject') {
          await parkInClickHouse(client, { follower: SINK_NAME_PREFIX, position: item.version, itemId: actorIdFor(item.state.leadId, item.state.anonymousId), itemType: 'subject', reason });
        }
        return durable;
      },
    },
  });
}
