import pg from 'pg';
import { AppendNotifier } from '../append-notifier.js';
import { PollingSubscription } from '../polling-subscription.js';
import type {
  AppendRequest,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../port.js';
import { appendInTransaction } from './append.js';
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
  readonly #subscriptions = new Set<PollingSubscription>();
  readonly #appending = new Set<Promise<unknown>>();
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

  /** Resolves once the transaction holding every request has committed. See append.ts for the locking. */
  async appendMany(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    if (this.#closed) throw new Error('event store is closed');
    const appending = inTransaction(this.#pool, (client) => appendInTransaction(client, this.#objects, requests));
    this.#appending.add(appending);
    try {
      const work = await appending;
      // This process's subscriptions need not wait for the NOTIFY round trip.
      if (work.written > 0) this.#notifier.notify();
      return work.results;
    } finally {
      this.#appending.delete(appending);
    }
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

  subscribe(options: SubscribeOptions): Subscription {
    if (this.#closed) throw new Error('event store is closed');
    this.#listener.start();
    const subscription = new PollingSubscription(this, this.#notifier, options, this.#pollIntervalMs);
    this.#subscriptions.add(subscription);
    void subscription.ended.then(() => this.#subscriptions.delete(subscription));
    return subscription;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Appends already accepted finish (commit or fail) before their connections go.
    await Promise.allSettled([...this.#appending]);
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.stop()));
    this.#subscriptions.clear();
    await this.#listener.close();
    await this.#pool.end();
  }
}

/** LIMIT NULL is no limit. */
function limitOf(maxCount: number | undefined): number | null {
  if (maxCount === undefined) return null;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new RangeError(`maxCount must be a non-negative integer, got ${maxCount}`);
  }
  return maxCount;
}
