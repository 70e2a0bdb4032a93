import { EngineError, withCaughtUpAnalytics, withCaughtUpReadModels } from '@sluice/app/one-shot';
import { QueryTimeoutError, withRuleDefaults } from '@sluice/analytics';
import type { AnalyticsClient, StageQueryKind } from '@sluice/analytics';
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
  return askServer<T>(url, new URL(path, url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, settings);
}

/** GETs a query (its options in the query string) from a running server, as postQuery does. */
export async function getQuery<T>(url: string, path: string, options: Record<string, string>, settings: Settings): Promise<T> {
  const target = new URL(path, url);
  for (const [name, value] of Object.entries(options)) target.searchParams.set(name, value);
  return askServer<T>(url, target, { method: 'GET', headers: {} }, settings);
}

async function askServer<T>(url: string, target: URL, init: { method: string; headers: Record<string, string>; body?: string }, settings: Settings): Promise<T> {
  const key = settings.apiKeys[0]?.secret ?? process.env.SLUICE_API_KEY;
  const res = await fetch(target, { ...init, headers: { ...init.headers, ...(key ? { authorization: `Bearer ${key}` } : {}) } }).catch((err: unknown) => {
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

/** The one-shot role's failures the user can fix (and a query past its timeout, the user's to narrow) as the CLI's message. */
export async function asCliErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof EngineError || err instanceof QueryTimeoutError) throw new CliError(err.message);
    throw err;
  }
}

/**
 * The application layer's one-shot role (@sluice/app/one-shot) with the
 * CLI's progress line: the data directory's ClickHouse with the log's new
 * touchpoints copied in and, with `stageTables`, the read models and the
 * stage tables caught up beside it; then the work; then everything closed.
 */
export function withEmbeddedAnalytics<T>(
  openStore: () => Promise<EventStore>,
  settings: Settings,
  work: (client: AnalyticsClient, store: EventStore) => Promise<T>,
  options: { stageTables?: boolean } = {},
): Promise<T> {
  return asCliErrors(() => withCaughtUpAnalytics(openStore, settings, new CatchUpProgress(), work, options));
}

/** The embedded engine with its stage tables current: the read models caught up with the log, then the stage tables with them. */
export async function withEmbeddedStageTables<T>(openStore: () => Promise<EventStore>, settings: Settings, work: (client: AnalyticsClient) => Promise<T>): Promise<T> {
  return withEmbeddedAnalytics(openStore, settings, (client) => work(client), { stageTables: true });
}

/**
 * The data directory's read models, caught up with the log under the live
 * rules (with progress: after a large import or the demo this takes a while;
 * on the caller's line when it catches other followers up too), for the
 * duration of `work`.
 */
export function withCaughtUpProjections<T>(store: EventStore, settings: Settings, work: (projections: ProjectionStore) => Promise<T>, shared?: CatchUpProgress): Promise<T> {
  return asCliErrors(() => withCaughtUpReadModels(store, settings, shared ?? new CatchUpProgress(), work, { ownsLine: shared === undefined }));
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
