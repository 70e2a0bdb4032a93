import { join } from 'node:path';
import { reportToConsole } from '@sluice/follower';
import { QueryTimeoutError, createAnalyticsClient, migrate, readSinkCheckpoint, stageSinkName, syncStageTables, syncTouchpoints, withRuleDefaults } from '@sluice/analytics';
import { ProjectionConfigMismatchError, openProjectionStore, stageStateSource, startProjector } from '@sluice/projector';
import type { AnalyticsClient, StageQueryKind, StageSyncResult } from '@sluice/analytics';
import type { ProjectionStore } from '@sluice/projector';
import type { EventStore } from '@sluice/event-store';
import { CliError, formatCount, printJson } from '../output.js';
import { CatchUpProgress } from '../progress.js';
import type { Settings } from '../settings.js';
import { invalidQueryError } from './query-flags.js';

/**
 * Where a `sluice query` runs: against a running server through its API
 * (--url), or on the embedded engine of the data directory, brought up to the
 * log's head first.
 */

/** POSTs a query body to a running server; its problem+json detail becomes the CLI's message. */
export async function postQuery<T>(url: string, path: string, body: unknown, settings: Settings): Promise<T> {
  const key = settings.apiKeys[0]?.secret ?? process.env.SLUICE_API_KEY;
  const res = await fetch(new URL(path, url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  }).catch((err: unknown) => {
    throw new CliError(`cannot reach ${url}: ${(err as Error).message}`);
  });
  const answer = (await res.json().catch(() => ({}))) as T & { detail?: string; errors?: Array<{ field: string; message: string }> };
  if (!res.ok) {
    const issues = (answer.errors ?? []).map((e) => `\n  ${e.field || '(query)'}: ${e.message}`).join('');
    throw new CliError(`the server answered ${res.status}: ${answer.detail ?? ''}${issues}`);
  }
  const freshness = (answer as { freshness?: { position: number; head: number; caughtUp: boolean } }).freshness;
  if (freshness?.caughtUp === false) {
    console.error(`sluice: the server is catching up: this answer counts the log up to position ${formatCount(freshness.position)} of ${formatCount(freshness.head)}; ask again for whole numbers`);
  }
  return answer;
}

/** The data directory's ClickHouse (chDB, or the server at CLICKHOUSE_URL); chDB held by a running server is refused pointing at --url. */
export function openAnalytics(settings: Settings): AnalyticsClient {
  try {
    return createAnalyticsClient({ url: settings.clickhouseUrl, dataPath: settings.dataDir });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n(if \`sluice serve\` is running on this data directory, ask it with --url http://${settings.host}:${settings.port})`);
  }
}

/**
 * Opens the data directory's ClickHouse (chDB, or the server at
 * CLICKHOUSE_URL), copies the log's new touchpoints into it and, with
 * `stageTables`, catches the read models and the stage tables up beside it
 * (one progress line for all of them), runs the work and closes everything.
 */
export async function withEmbeddedAnalytics<T>(
  openStore: () => Promise<EventStore>,
  settings: Settings,
  work: (client: AnalyticsClient, store: EventStore) => Promise<T>,
  { stageTables = false }: { stageTables?: boolean } = {},
): Promise<T> {
  const store = await openStore();
  let client: AnalyticsClient;
  try {
    client = openAnalytics(settings);
  } catch (err) {
    await store.close();
    throw err;
  }
  const progress = new CatchUpProgress();
  try {
    await migrate(client);
    // every follower on the line before any starts, so the bar only moves forward
    const head = await store.headPosition();
    const touchpoints = progress.follow('touchpoints', head);
    if (stageTables) progress.follow('read models', head);
    const stages = stageTables ? progress.follow('stage tables', head) : undefined;
    // the touchpoints and the read models are independent: caught up side by side, the stage tables after the read models
    await allOf([
      syncTouchpoints(store, client, { ...reportToConsole('the ClickHouse touchpoint sink'), onProgress: (s) => touchpoints(s.position) }),
      stageTables ? withCaughtUpProjections(store, settings, (projections) => syncStageTablesFrom(projections, client, settings, stages), progress) : undefined,
    ]);
    progress.done();
    return await work(client, store);
  } catch (err) {
    // a query past its timeout is the user's to narrow, not a crash
    if (err instanceof QueryTimeoutError) throw new CliError(err.message);
    throw err;
  } finally {
    // after a failure: the line cleared, no figure
    progress.done(false);
    await client.close();
    await store.close();
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
export async function syncStageTablesFrom(projections: ProjectionStore, client: AnalyticsClient, settings: Settings, moved?: (position: number) => void): Promise<StageSyncResult> {
  if (moved) {
    // where this build's stage tables start: the sink's first word is of no build yet
    const head = await stageStateSource(projections).head();
    moved(head.configVersion === undefined ? head.position : await readSinkCheckpoint(client, stageSinkName({ build: head.build, configVersion: head.configVersion })));
  }
  const synced = await syncStageTables(stageStateSource(projections), client, { ...reportToConsole('the ClickHouse stage-table sink'), ...(moved ? { onProgress: (s) => moved(s.position) } : {}) });
  if (synced.waitingFor !== undefined) {
    throw new CliError(
      `ClickHouse holds stage rows of rules ${settings.config.version} up to log position ${synced.waitingFor}, beyond the read models' position (${projections.state().position}): ` +
        'they were built from another log; the stage tables were left as they are (`sluice rebuild` after clearing them)',
    );
  }
  return synced;
}

/**
 * The embedded engine with its stage tables current: the projector catches
 * the read models up with the log (under the live rules), then the stage-table
 * sink copies what changed into ClickHouse, as `sluice serve` does live.
 */
export async function withEmbeddedStageTables<T>(openStore: () => Promise<EventStore>, settings: Settings, work: (client: AnalyticsClient) => Promise<T>): Promise<T> {
  return withEmbeddedAnalytics(openStore, settings, (client) => work(client), { stageTables: true });
}

/**
 * The data directory's read models, caught up with the log under the live
 * rules (with progress: after a large import or the demo this takes a while;
 * on the caller's line when it catches other followers up too), for the
 * duration of `work`.
 */
export async function withCaughtUpProjections<T>(store: EventStore, settings: Settings, work: (projections: ProjectionStore) => Promise<T>, shared?: CatchUpProgress): Promise<T> {
  const projections = openProjectionStore(join(settings.dataDir, 'projections.sqlite'));
  const progress = shared ?? new CatchUpProgress();
  try {
    const moved = progress.follow('read models', await store.headPosition(), projections.state().position);
    let projector;
    try {
      projector = startProjector({ store, projections, config: settings.config, ...reportToConsole('the projector'), onProgress: (p) => moved(p.applied) });
    } catch (err) {
      if (err instanceof ProjectionConfigMismatchError) throw new CliError(`${err.message}\nrun \`sluice rebuild\` to rebuild the read models under the current rules`);
      throw err;
    }
    try {
      await projector.caughtUp();
    } finally {
      await projector.stop();
      if (shared === undefined) progress.done();
    }
    return await work(projections);
  } finally {
    projections.close();
  }
}

/** A stage-level query as the CLI runs it: the API route that answers the same body, or the analytics package on the embedded engine. */
export interface StageQuery<F, Q, R> {
  /** the live-rule defaults it takes, if any */
  kind: StageQueryKind | undefined;
  path: string;
  /** whether it reads the stage tables (caught up with the read models first), or the touchpoints alone */
  stageTables: boolean;
  /** for messages: "conversion query" */
  what: string;
  /** the request body from the command's flags (dates read in the business zone) */
  bodyOf(flags: F, timeZone: string): unknown;
  parse(input: unknown): { ok: true; query: Q } | { ok: false; issues: ReadonlyArray<{ field: string; message: string }> };
  run(client: AnalyticsClient, query: Q): Promise<R>;
  format(result: R): string;
}

/**
 * The command for a stage-level query: asks the server at --url, or the
 * embedded engine under the live rules' defaults; prints a table or JSON.
 */
export function stageCommand<F extends { url?: string | undefined }, Q, R>(query: StageQuery<F, Q, R>) {
  return async (openStore: () => Promise<EventStore>, settings: Settings, flags: F, json: boolean): Promise<void> => {
    const body = query.bodyOf(flags, settings.timeZone);
    let result: R;
    if (flags.url !== undefined) result = await postQuery<R>(flags.url, query.path, body, settings);
    else {
      // checked before the engine opens: a typo should not wait for a catch-up
      const parsed = query.parse(query.kind === undefined ? body : withRuleDefaults(query.kind, body, settings.config));
      if (!parsed.ok) throw invalidQueryError(query.what, parsed.issues);
      const valid = parsed.query;
      result = await withEmbeddedAnalytics(openStore, settings, (client) => query.run(client, valid), { stageTables: query.stageTables });
    }
    if (json) printJson(result);
    else process.stdout.write(query.format(result));
  };
}
