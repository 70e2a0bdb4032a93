import type Database from 'better-sqlite3';
import { AppendNotifier } from '../append-notifier.js';
import { PollingSubscription } from '../polling-subscription.js';
import { LiveSubscriptions } from '../subscription-support.js';
import { ConcurrencyError, EventIdConflictError, matchesExpectedRevision, sameEventContent } from '../port.js';
import type {
  AppendRequest,
  AppendResult,
  EventIdConflict,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  RecordedEventText,
  SubscribeOptions,
  Subscription,
} from '../port.js';
import { openConnection } from './connection.js';

export interface SqliteEventStoreOptions {
  /** Database file, or ':memory:' for a private store that lives as long as this instance. */
  path: string;
  /** How often live subscriptions look for appends made by other processes. Default 200 ms. */
  pollIntervalMs?: number;
  /** How long a write waits for another process's write lock before failing (SQLITE_BUSY). Default 5000 ms. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the embedded event store. Async only to match the
 * other adapters' factories; the work is synchronous.
 */
export async function openSqliteEventStore(options: SqliteEventStoreOptions): Promise<EventStore> {
  return new SqliteEventStore(options);
}

interface EventRow {
  position: number;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string | null;
  recorded_at: string;
}

interface StoredEventRef {
  position: number;
  stream_id: string;
  revision: number;
  type: string;
  /** JSON text */
  data: string;
}

const EVENT_COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata, recorded_at';
/** SQLite reads a negative LIMIT as "no limit". */
const NO_LIMIT = -1;

class SqliteEventStore implements EventStore {
  /** One SQLite transaction holds every request of an appendMany. */
  readonly capabilities = { atomicMultiStreamAppend: true };

  readonly #db: Database.Database;
  readonly #notifier = new AppendNotifier();
  readonly #subscriptions = new LiveSubscriptions<PollingSubscription>();
  readonly #pollIntervalMs: number;
  #closed = false;

  // Prepared once: statement preparation would otherwise dominate small appends.
  readonly #insert: Database.Statement<[string, number, string, string, string, string | null, string]>;
  readonly #lastRevision: Database.Statement<[string], number>;
  readonly #findById: Database.Statement<[string], StoredEventRef>;
  readonly #readAll: Database.Statement<[number, number], EventRow>;
  readonly #readStream: Database.Statement<[string, number, number], EventRow>;
  readonly #head: Database.Statement<[], number | null>;
  readonly #appendInTransaction: Database.Transaction<(requests: readonly AppendRequest[]) => AppendWork>;
  readonly #commitGroup: Database.Transaction<(group: readonly PendingAppend[]) => GroupOutcome[]>;
  /** appendMany calls waiting for the next group commit */
  #pending: PendingAppend[] = [];
  #flushScheduled = false;

  constructor(options: SqliteEventStoreOptions) {
    this.#pollIntervalMs = options.pollIntervalMs ?? 200;
    const db = openConnection({ path: options.path, busyTimeoutMs: options.busyTimeoutMs ?? 5000 });
    this.#db = db;

    this.#insert = db.prepare(
      `INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (event_id) DO NOTHING`,
    );
    this.#lastRevision = db
      .prepare<[string], number>('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1')
      .pluck();
    this.#findById = db.prepare('SELECT position, stream_id, revision, type, data FROM events WHERE event_id = ?');
    this.#readAll = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`);
    this.#readStream = db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?`,
    );
    this.#head = db.prepare<[], number | null>('SELECT MAX(position) FROM events').pluck();
    this.#appendInTransaction = db.transaction((requests: readonly AppendRequest[]) => {
      // One timestamp per commit: the events become visible together.
      const recordedAt = new Date().toISOString();
      const work: AppendWork = { results: new Array<AppendResult>(requests.length), written: 0, inserted: new Map(), conflicts: [] };
      let concurrencyError: ConcurrencyError | undefined;
      for (let i = 0; i < requests.length; i++) {
        try {
          work.results[i] = this.#appendOne(requests[i]!, i, recordedAt, work);
        } catch (error) {
          // Held back: a conflict anywhere in the call takes precedence, so the later requests are still checked.
          if (!(error instanceof ConcurrencyError)) throw error;
          concurrencyError ??= error;
        }
      }
      if (work.conflicts.length > 0) throw new EventIdConflictError(work.conflicts);
      if (concurrencyError !== undefined) throw concurrencyError;
      return work;
    });
    // Group commit: every appendMany that arrived since the last commit shares
    // one transaction (one fsync), each in its own savepoint, so one call's
    // ConcurrencyError or EventIdConflictError rolls back that call only and never its neighbours.
    this.#commitGroup = db.transaction((group: readonly PendingAppend[]) =>
      group.map((pending): GroupOutcome => {
        try {
          return { ok: true, work: this.#appendInTransaction(pending.requests) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const [result] = await this.appendMany([request]);
    return result!;
  }

  /**
   * Resolves only after the transaction holding these requests has committed
   * (synchronous = FULL: durable). Calls made in the same turn of the event
   * loop, or while a commit was running, commit together.
   */
  appendMany(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    if (this.#closed) return Promise.reject(new Error('event store is closed'));
    return new Promise((resolve, reject) => {
      this.#pending.push({ requests, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const group = this.#pending;
    this.#pending = [];
    if (group.length === 0) return;
    let outcomes: GroupOutcome[];
    try {
      // IMMEDIATE takes the write lock up front: a deferred transaction that read
      // first could not upgrade after another process committed (SQLITE_BUSY
      // without waiting), and the revisions it read would be stale.
      outcomes = this.#commitGroup.immediate(group);
    } catch (error) {
      for (const pending of group) pending.reject(error);
      return;
    }
    let written = 0;
    outcomes.forEach((outcome, i) => {
      if (outcome.ok) {
        written += outcome.work.written;
        group[i]!.resolve(outcome.work.results);
      } else group[i]!.reject(outcome.error);
    });
    if (written > 0) this.#notifier.notify();
  }

  /**
   * Inserts the request's events with `ON CONFLICT (event_id) DO NOTHING`: an
   * unchanged row count means the id is already stored (in any stream, or
   * earlier in this very call), and only then do we look up the original and
   * compare its content: the same is a duplicate, another is a conflict the
   * caller throws for once the whole call is checked. The expected revision is
   * checked after the loop, once we know whether anything new was written;
   * throwing rolls back the whole transaction.
   */
  #appendOne(request: AppendRequest, requestIndex: number, recordedAt: string, work: AppendWork): AppendResult {
    const { streamId, events } = request;
    const lastRevision = this.#lastRevision.get(streamId);
    const actual = lastRevision ?? 'no_stream';
    let nextRevision = lastRevision === undefined ? 0 : lastRevision + 1;
    let originalRevision = -1;
    const positions = new Array<number>(events.length);
    const duplicate = new Array<boolean>(events.length).fill(false);
    let duplicates = 0;

    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const data = JSON.stringify(event.data) ?? 'null';
      const metadata = event.metadata === undefined ? null : JSON.stringify(event.metadata);
      const { changes, lastInsertRowid } = this.#insert.run(
        streamId,
        nextRevision,
        event.id,
        event.type,
        data,
        metadata,
        recordedAt,
      );
      if (changes === 1) {
        positions[i] = Number(lastInsertRowid);
        nextRevision++;
        work.inserted.set(event.id, { requestIndex, eventIndex: i });
        continue;
      }
      const original = this.#findById.get(event.id)!;
      // An exact retry usually carries the very same JSON text: parse only when it does not.
      const same = original.data === data ? original.type === event.type : sameEventContent({ type: original.type, data: JSON.parse(original.data) }, event);
      if (!same) {
        const earlier = work.inserted.get(event.id);
        work.conflicts.push(earlier === undefined ? { id: event.id, requestIndex, eventIndex: i } : { id: event.id, requestIndex, eventIndex: i, earlier });
        continue;
      }
      positions[i] = original.position;
      duplicate[i] = true;
      duplicates++;
      if (original.stream_id === streamId && original.revision > originalRevision) originalRevision = original.revision;
    }

    const written = events.length - duplicates;
    const isPureRetry = events.length > 0 && written === 0;
    const expected = request.expectedRevision ?? 'any';
    if (!isPureRetry && !matchesExpectedRevision(expected, actual)) {
      throw new ConcurrencyError(streamId, expected, actual);
    }
    work.written += written;
    return {
      streamId,
      // A pure retry reports where the original append ended, not where the stream is now.
      nextExpectedRevision: isPureRetry && originalRevision >= 0 ? originalRevision : nextRevision - 1,
      positions,
      duplicates,
      duplicate,
    };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const rows = this.#readStream.all(streamId, options.fromRevision ?? 0, limitOf(options.maxCount));
    return rows.map((row) => toRecordedEvent(row, JSON.parse(row.data) as unknown));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const rows = this.#readAll.all(options.after ?? 0, limitOf(options.maxCount));
    return rows.map((row) => toRecordedEvent(row, JSON.parse(row.data) as unknown));
  }

  async readAllText(options: ReadAllOptions = {}): Promise<RecordedEventText[]> {
    const rows = this.#readAll.all(options.after ?? 0, limitOf(options.maxCount));
    return rows.map((row) => toRecordedEvent(row, row.data));
  }

  async headPosition(): Promise<number> {
    return this.#head.get() ?? 0;
  }

  onAppend(listener: () => void): () => void {
    return this.#notifier.listen(listener);
  }

  subscribe(options: SubscribeOptions): Subscription {
    if (this.#closed) throw new Error('event store is closed');
    const subscription = new PollingSubscription(this, this.#notifier, options, this.#pollIntervalMs);
    return this.#subscriptions.track(subscription);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#flush(); // appends already accepted are committed before the file closes
    await this.#subscriptions.stopAll();
    // Closing the last connection checkpoints the WAL into the main file.
    this.#db.close();
  }
}

interface PendingAppend {
  requests: readonly AppendRequest[];
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
}

type GroupOutcome = { ok: true; work: AppendWork } | { ok: false; error: unknown };

interface AppendWork {
  results: AppendResult[];
  /** Events actually inserted across the transaction; wakes subscribers only when > 0. */
  written: number;
  /** Where in the call each id it inserted is: a later event conflicting with it names it as `earlier`. */
  inserted: Map<string, { requestIndex: number; eventIndex: number }>;
  conflicts: EventIdConflict[];
}

function limitOf(maxCount: number | undefined): number {
  if (maxCount === undefined) return NO_LIMIT;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new RangeError(`maxCount must be a non-negative integer, got ${maxCount}`);
  }
  return maxCount;
}

/** The event of a row, its data as given: parsed (readAll) or the stored text (readAllText). */
function toRecordedEvent<Data>(row: EventRow, data: Data): Omit<RecordedEvent, 'data'> & { data: Data } {
  const event: Omit<RecordedEvent, 'data'> & { data: Data } = {
    position: row.position,
    streamId: row.stream_id,
    revision: row.revision,
    id: row.event_id,
    type: row.type,
    data,
    recordedAt: row.recorded_at,
  };
  if (row.metadata !== null) event.metadata = JSON.parse(row.metadata) as Record<string, unknown>;
  return event;
}
