import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ClickHouseClient, ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

/**
 * One code path, two connections: every query goes through @clickhouse/client,
 * either over HTTP to a ClickHouse server or through `chdb/connection` to the
 * embedded engine in this process.
 *
 * Rules every caller follows (both backends behave the same only under them):
 * - Values reach SQL only as bound parameters `{name:Type}`; identifiers only
 *   from the fixed whitelists in this package.
 * - No `clickhouse_settings` on a call: chdb/connection turns them into `SET`
 *   statements on its session, so they stick to every later query. Per-query
 *   settings go in a `SETTINGS` clause instead (see {@link settingsClause}).
 * - No `Date` parameters: chDB formats them without milliseconds, the HTTP
 *   client as epoch seconds. Pass epoch milliseconds as Int64 and convert in SQL.
 * - 64-bit integers come back as JSON numbers from chDB and as strings from a
 *   server (output_format_json_quote_64bit_integers): read them with Number().
 * - No WITH TOTALS: chDB's JSON output with totals and an empty result is
 *   not valid JSON (the totals block is written before the header).
 */
export type AnalyticsBackend = 'chdb' | 'http';

export interface AnalyticsClientOptions {
  /** ClickHouse server URL (CLICKHOUSE_URL), e.g. http://user:pass@127.0.0.1:8123. Without it, embedded chDB. */
  url?: string | undefined;
  /** Sluice's data directory: embedded chDB keeps its data in `<dataPath>/clickhouse`. Required without a url. */
  dataPath?: string | undefined;
  /** Server only: the database to use (it must exist). */
  database?: string | undefined;
}

export interface AnalyticsClient {
  readonly backend: AnalyticsBackend;
  /** The underlying client, for callers that need more than the helpers below. */
  readonly ch: ClickHouseClient;
  /** Runs a statement that returns nothing (DDL, INSERT ... SELECT). */
  command(query: string, params?: QueryParams): Promise<void>;
  /** Runs a query and returns its rows. */
  rows<T>(query: string, params?: QueryParams): Promise<T[]>;
  /** Inserts rows (JSONEachRow) into one of this package's tables. */
  insert(table: AnalyticsTable, rows: readonly object[]): Promise<void>;
  /**
   * The same connection for one request's queries, all of which must answer
   * within `timeoutSeconds` from now, together: a query still running then
   * (or waiting its turn: chDB runs parameterized queries one at a time) is
   * rejected with QueryTimeoutError at that moment. Each query's own
   * max_execution_time stays, to stop the engine's work: ClickHouse checks it
   * between blocks of rows, so one costly block can outlast it.
   */
  withTimeout(timeoutSeconds: number): AnalyticsClient;
  close(): Promise<void>;
}

export type QueryParams = Record<string, unknown>;

/** Tables this package writes; inserts name no other table. */
export const ANALYTICS_TABLES = ['schema_migrations', 'touchpoints', 'identity_links', 'sink_checkpoints', 'stage_transitions', 'lead_profile', 'parked_events'] as const;
export type AnalyticsTable = (typeof ANALYTICS_TABLES)[number];

/** Seconds a query may run at most; the HTTP request waits a little longer so the server's own error arrives first. */
export const MAX_QUERY_TIMEOUT_SECONDS = 300;
/** A query's timeout unless its caller sets one. */
export const DEFAULT_QUERY_TIMEOUT_SECONDS = 30;

// libchdb binds one data directory per process and refuses a second while the
// first is open: keep track here so the error names both paths.
let openChdb: { path: string; refs: number } | undefined;

export function createAnalyticsClient(options: AnalyticsClientOptions): AnalyticsClient {
  if (options.url) {
    const ch = createClient({
      url: options.url,
      ...(options.database ? { database: options.database } : {}),
      request_timeout: (MAX_QUERY_TIMEOUT_SECONDS + 30) * 1000,
    });
    return wrap('http', ch, async () => ch.close());
  }
  if (!options.dataPath) throw new Error('analytics needs a ClickHouse url or a data directory for embedded chDB');
  const path = resolve(join(options.dataPath, 'clickhouse'));
  if (openChdb && openChdb.path !== path) {
    throw new Error(`chDB is already open at ${openChdb.path} in this process; it binds one data directory per process, so ${path} cannot be opened too`);
  }
  mkdirSync(path, { recursive: true });
  // chdb types its connection against @clickhouse/client-common, which
  // @clickhouse/client bundles a copy of: same shape, nominally different classes.
  const connection = createChdbConnection({ path }) as unknown as NonNullable<ClickHouseClientConfigOptions['connection']>;
  const ch = createClient({ connection });
  openChdb = { path, refs: (openChdb?.refs ?? 0) + 1 };
  let closed = false;
  return wrap('chdb', ch, async () => {
    if (closed) return;
    closed = true;
    await ch.close();
    if (openChdb && --openChdb.refs === 0) openChdb = undefined;
  });
}

/** A query ran past its max_execution_time or its request's timeout: the caller asked for more than its timeout allows (an API answers 504, not 500). */
export class QueryTimeoutError extends Error {
  constructor(readonly detail: string) {
    super(`the query took longer than its timeout (${detail}): narrow the date range or the breakdown, or raise timeoutSeconds (at most ${MAX_QUERY_TIMEOUT_SECONDS})`);
  }
}

/** ClickHouse's TIMEOUT_EXCEEDED (code 159), from chDB and from a server alike. */
function typedError(err: unknown): unknown {
  const e = err as { code?: unknown; type?: unknown; message?: unknown };
  if (e?.type === 'TIMEOUT_EXCEEDED' || e?.code === '159') return new QueryTimeoutError(String(e.message ?? ''));
  return err;
}

/** When a request's queries must have answered by, and the timeout it came from. */
interface Deadline {
  atMs: number;
  seconds: number;
}

/** Runs one query, under the deadline when there is one. */
async function underDeadline<T>(deadline: Deadline | undefined, run: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  const remainingMs = deadline === undefined ? undefined : deadline.atMs - Date.now();
  const timedOut = () => new QueryTimeoutError(`the request's ${deadline!.seconds} s ran out: its queries together, waiting their turn included`);
  if (remainingMs !== undefined && remainingMs <= 0) throw timedOut();
  const signal = remainingMs === undefined ? undefined : AbortSignal.timeout(remainingMs);
  try {
    return await run(signal);
  } catch (err) {
    throw signal?.aborted ? timedOut() : typedError(err);
  }
}

function wrap(backend: AnalyticsBackend, ch: ClickHouseClient, close: () => Promise<void>, deadline?: Deadline): AnalyticsClient {
  const signalled = (signal: AbortSignal | undefined) => (signal === undefined ? {} : { abort_signal: signal });
  return {
    backend,
    ch,
    async command(query, params) {
      await underDeadline(deadline, (signal) => ch.command({ query, ...(params ? { query_params: params } : {}), ...signalled(signal) }));
    },
    async rows<T>(query: string, params?: QueryParams) {
      return underDeadline(deadline, async (signal) => {
        const rs = await ch.query({ query, format: 'JSONEachRow', ...(params ? { query_params: params } : {}), ...signalled(signal) });
        return rs.json<T>();
      });
    },
    async insert(table, rows) {
      if (!(ANALYTICS_TABLES as readonly string[]).includes(table)) throw new Error(`not an analytics table: ${table}`);
      if (rows.length === 0) return;
      await ch.insert({ table, values: rows as object[], format: 'JSONEachRow' });
    },
    withTimeout(timeoutSeconds) {
      return wrap(backend, ch, close, { atMs: Date.now() + timeoutSeconds * 1000, seconds: timeoutSeconds });
    },
    close,
  };
}

/**
 * A per-query SETTINGS clause from a whitelist. Values are integers checked
 * here (they come from validated options, never from free text), because query
 * parameters inside SETTINGS only work on ClickHouse releases from mid-2026 on.
 */
const QUERY_SETTINGS = ['max_execution_time', 'max_result_rows'] as const;
export function settingsClause(settings: Partial<Record<(typeof QUERY_SETTINGS)[number], number>>): string {
  const parts: string[] = [];
  for (const name of QUERY_SETTINGS) {
    const value = settings[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`setting ${name} must be a non-negative integer, got ${String(value)}`);
    parts.push(`${name} = ${value}`);
  }
  return parts.length === 0 ? '' : `SETTINGS ${parts.join(', ')}`;
}

/** ClickHouse DateTime64(3) text for an epoch-millisecond instant (UTC). */
export function clickhouseDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
