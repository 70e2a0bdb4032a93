import pg from 'pg';
import { AppendNotifier, LiveSubscriptions, PollingSubscription } from '@sluice/event-store/support';
import type {
  AppendRequest,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '@sluice/event-store';
import { appendGroup } from './append.js';
import type { CallOutcome } from './append.js';
import { AppendListener } from './listener.js';
import { EVENT_COLUMNS, toRecordedEvent, toSafeNumber } from './rows.js';
import type { EventRow } from './rows.js';
import { migrate, storeObjects } from './schema.js';
import type { StoreObjects } from './schema.js';
import { inTransaction } from './transaction.js';

export interface PostgresEventStoreOptions {
  /** e.g. postgres://user@host:5432/db */
  connectionString: string;
  /** Schema holding the store's tables, created if missing. Default 'sluice'. One schema, one store. */
  schema?: string;
  /**
   * How often an idle live subscription reads the log anyway. LISTEN/NOTIFY
   * wakes subscriptions on every append, so this only bounds the delay while
   * the LISTEN connection is down. Default 1000 ms.
   */
  pollIntervalMs?: number;
}

/**
 * Opens (creating or migrating if needed) an event store in a PostgreSQL
 * schema. Holds a connection pool, plus one LISTEN connection once something
 * subscribes; close() releases them.
 */
export async function openPostgresEventStore(options: PostgresEventStoreOptions): Promise<EventStore> {
  const objects = storeObjects(options.schema ?? 'sluice');
  const pool = new pg.Pool({ connectionString: options.connectionString, application_name: 'sluice-event-store' });
  // An idle pooled connection that drops emits 'error' on the pool; unhandled, it would crash the process.
  // The pool discards that connection and the next query opens a new one.
  pool.on('error', (err) => console.warn(`event-store: idle PostgreSQL connection lost (${err.message})`));
  try {
    await inTransaction(pool, (client) => migrate(client, objects));
  } catch (err) {
    await pool.end();
    throw err;
  }
  return new PostgresEventStore(pool, objects, options);
}

class PostgresEventStore implements EventStore {
  /** One transaction holds every request of an appendMany. */
  readonly capabilities = { atomicMultiStreamAppend: true };

  readonly #pool: pg.Pool;
  readonly #objects: StoreObjects;
  readonly #pollIntervalMs: number;
  readonly #notifier = new AppendNotifier();
  readonly #listener: AppendListener;
  readonly #subscriptions = new LiveSubscriptions<PollingSubscription>();
  /** appendMany calls waiting for the next group commit */
  #pending: PendingAppend[] = [];
  /** The loop committing groups, while one runs. */
  #committing: Promise<void> | undefined;
  #closed = false;

  constructor(pool: pg.Pool, objects: StoreObjects, options: PostgresEventStoreOptions) {
    this.#pool = pool;
    this.#objects = objects;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#listener = new AppendListener({
      connectionString: options.connectionString,
      schema: objects.schema,
      onAppend: () => this.#notifier.notify(),
      reconnectDelayMs: Math.max(this.#pollIntervalMs, 1000),
    });
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const [result] = await this.appendMany([request]);
    return result!;
  }

  /**
   * Resolves once the transaction holding every request has committed.
   *
   * Group commit: calls made while a commit is running wait and then share one
   * transaction (one lock turn, one INSERT, one commit; see append.ts), so this
   * instance appends on one pooled connection at a time and leaves the others
   * to readers; its appends would queue for the store's lock anyway. A call
   * failing its expected revision fails alone.
   */
  appendMany(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    if (this.#closed) return Promise.reject(new Error('event store is closed'));
    return new Promise((resolve, reject) => {
      this.#pending.push({ requests, events: countEvents(requests), resolve, reject });
      this.#committing ??= this.#commitPending();
    });
  }

  async #commitPending(): Promise<void> {
    try {
      // Calls made in the same turn of the event loop join the first group.
      await new Promise((resolve) => setImmediate(resolve));
      while (this.#pending.length > 0) await this.#commitGroup(this.#takeGroup());
    } finally {
      // Cleared in the same turn as the last "nothing pending" check: a call
      // arriving afterwards always starts a new loop (a .finally() callback
      // would run a microtask later, after such a call had seen this loop as
      // still running, and strand it).
      this.#committing = undefined;
    }
  }

  /** The oldest waiting calls, up to MAX_GROUP_EVENTS events (always at least one call). */
  #takeGroup(): PendingAppend[] {
    let events = this.#pending[0]!.events;
    let size = 1;
    while (size < this.#pending.length && events + this.#pending[size]!.events <= MAX_GROUP_EVENTS) {
      events += this.#pending[size]!.events;
      size++;
    }
    return this.#pending.splice(0, size);
  }

  async #commitGroup(group: readonly PendingAppend[]): Promise<void> {
    let outcomes: CallOutcome[];
    try {
      outcomes = await inTransaction(this.#pool, (client) =>
        appendGroup(
          client,
          this.#objects,
          group.map((pending) => pending.requests),
        ),
      );
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // One call's data can fail the shared INSERT (a NUL byte in an id, say):
      // retry each call on its own so it cannot fail its neighbours. Appends are
      // idempotent by id, so this is safe even if the failure was a lost COMMIT
      // that did commit.
      for (const pending of group) await this.#commitGroup([pending]);
      return;
    }
    let written = 0;
    outcomes.forEach((outcome, i) => {
      if (outcome.ok) {
        written += outcome.written;
        group[i]!.resolve(outcome.results);
      } else group[i]!.reject(outcome.error);
    });
    // This process's subscriptions need not wait for the NOTIFY round trip.
    if (written > 0) this.#notifier.notify();
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const { rows } = await this.#pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.#objects.events}
        WHERE stream_id = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
      [streamId, options.fromRevision ?? 0, limitOf(options.maxCount)],
    );
    return rows.map(toRecordedEvent);
  }

  /**
   * Plain position order is gap-free for readers because appends commit in
   * position order (append.ts), so the shared polling subscription can use it.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { rows } = await this.#pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.#objects.events} WHERE position > $1 ORDER BY position LIMIT $2`,
      [options.after ?? 0, limitOf(options.maxCount)],
    );
    return rows.map(toRecordedEvent);
  }

  async headPosition(): Promise<number> {
    const { rows } = await this.#pool.query<{ head: string | null }>(
      `SELECT max(position) AS head FROM ${this.#objects.events}`,
    );
    const head = rows[0]?.head ?? null;
    return head === null ? 0 : toSafeNumber(head);
  }

  onAppend(listener: () => void): () => void {
    this.#listener.start();
    return this.#notifier.listen(listener);
  }

  subscribe(options: SubscribeOptions): Subscription {
    if (this.#closed) throw new Error('event store is closed');
    this.#listener.start();
    const subscription = new PollingSubscription(this, this.#notifier, options, this.#pollIntervalMs);
    return this.#subscriptions.track(subscription);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Appends already accepted are committed (or fail) before the connections go.
    await this.#committing;
    await this.#subscriptions.stopAll();
    await this.#listener.close();
    await this.#pool.end();
  }
}

/**
 * Bounds one group commit's INSERT (its parameters are built in memory); a
 * single larger call still commits, alone.
 */
const MAX_GROUP_EVENTS = 10_000;

interface PendingAppend {
  requests: readonly AppendRequest[];
  events: number;
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
}

function countEvents(requests: readonly AppendRequest[]): number {
  return requests.reduce((sum, request) => sum + request.events.length, 0);
}

/** LIMIT NULL is no limit. */
function limitOf(maxCount: number | undefined): number | null {
  if (maxCount === undefined) return null;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new RangeError(`maxCount must be a non-negative integer, got ${maxCount}`);
  }
  return maxCount;
}
