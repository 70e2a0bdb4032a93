/**
 * The event store port: what the rest of Sluice codes against. Adapters
 * (SQLite here; PostgreSQL and EventStoreDB later) implement it and prove it
 * with the shared contract suite (`@sluice/event-store/contract`).
 *
 * Numbering
 * - Stream revisions are 0-based: the first event of a stream has revision 0.
 *   Adapters whose storage counts from 1 normalise at their edge.
 * - Global positions are >= 1 and strictly increasing in commit order. They are
 *   not promised to be contiguous (other adapters may leave holes). They are
 *   plain JS numbers, exact up to 2^53.
 *
 * Idempotency (the event id is the idempotency key, across the whole store)
 * - An event whose id is already stored, in ANY stream, with the SAME content
 *   is a duplicate: it is not written again, and its slot in
 *   `AppendResult.positions` holds the ORIGINAL position. The same content
 *   means the same type and the same data compared as JSON values, so key
 *   order does not matter (sameEventContent); metadata and recordedAt do not
 *   count. An id repeated with the same content inside one call (append or
 *   appendMany) is stored once.
 * - An id already stored with DIFFERENT content is a conflict, not a retry: an
 *   id names one event for good, so a correction needs an id of its own. So is
 *   an id repeated inside one call with content that differs from its first
 *   occurrence. A call with any conflict fails with one EventIdConflictError
 *   listing every conflicting event of the call, and writes nothing; it takes
 *   precedence over a failed expected revision in the same call. Adapters
 *   decide it inside their write (transaction, lock or id claim), so a
 *   concurrent append cannot slip a different event in between the check and
 *   the write.
 * - The expected-revision check applies to the non-duplicate events only, so a
 *   retried append whose events all exist succeeds without writing anything and
 *   returns the original positions and nextExpectedRevision, even though the
 *   stream has moved past the revision the retry expects. (An empty request has
 *   nothing to be a retry of, so its expected revision is checked.)
 * - An append that fails the check writes nothing.
 */

/** Numbers are the 0-based revision of the stream's LAST event. */
export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

export interface NewEvent {
  /** Unique across the store; the idempotency key. */
  id: string;
  type: string;
  /** Must be JSON-serialisable; it is read back as parsed JSON. */
  data: unknown;
  metadata?: Record<string, unknown>;
}

export interface RecordedEvent {
  /** Global position: >= 1, strictly increasing, not necessarily contiguous. */
  position: number;
  streamId: string;
  /** 0-based within the stream. */
  revision: number;
  id: string;
  type: string;
  data: unknown;
  metadata?: Record<string, unknown>;
  /** ISO-8601 UTC time the store committed the event (not when it occurred). */
  recordedAt: string;
}

/** A recorded event with its data as the JSON text the store keeps (EventStore.readAllText). */
export interface RecordedEventText extends Omit<RecordedEvent, 'data'> {
  data: string;
}

export interface AppendRequest {
  streamId: string;
  events: readonly NewEvent[];
  /** Defaults to 'any'. */
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  streamId: string;
  /**
   * The revision to pass as `expectedRevision` next: the stream's last revision
   * after this append. For an all-duplicate retry, the revision the original
   * append ended at. -1 when the stream has no events.
   */
  nextExpectedRevision: number;
  /** positions[i] belongs to events[i]; for a duplicate it is the ORIGINAL position. */
  positions: number[];
  /** How many of the request's events were duplicates (not written). */
  duplicates: number;
  /** duplicate[i] is true when events[i] was not written: its id was already stored, or repeated earlier in the request. */
  duplicate: boolean[];
}

export interface ReadStreamOptions {
  fromRevision?: number;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive global position (0 = from the start). */
  after?: number;
  maxCount?: number;
}

export interface SubscribeOptions {
  /** Exclusive global position to start after (0 = from the start), typically a checkpoint. */
  after: number;
  batchSize?: number;
  /**
   * Awaited before the next batch is read (backpressure). If it throws, the
   * subscription stops at the last fully handled position (it never skips) and
   * reports the error to `onError`.
   */
  onBatch: (events: RecordedEvent[]) => Promise<void> | void;
  onError?: (err: unknown) => void;
}

export interface Subscription {
  /** Stops delivery; resolves once an in-flight onBatch has returned. No batch is delivered after. */
  stop(): Promise<void>;
  /** Global position of the last event whose batch onBatch finished (starts at `after`). */
  readonly position: number;
  /**
   * Resolves once the subscription has delivered everything up to the head as
   * of the call; rejects if it stops or fails before getting there.
   */
  caughtUp(): Promise<void>;
}

export interface EventStore {
  readonly capabilities: { atomicMultiStreamAppend: boolean };
  append(request: AppendRequest): Promise<AppendResult>;
  /** All-or-nothing across streams when capabilities.atomicMultiStreamAppend. */
  appendMany(requests: readonly AppendRequest[]): Promise<AppendResult[]>;
  /** Events of one stream in revision order; [] for a stream that does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** The global log in position order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Position of the last event; 0 when empty. */
  headPosition(): Promise<number>;
  /**
   * The global log as stored, `data` as its JSON text (not parsed), for a
   * reader that hands the text on to an engine that parses it itself (the
   * touchpoint sink's bulk path into chDB); only a store that keeps the text
   * has it.
   */
  readAllText?(options?: ReadAllOptions): Promise<RecordedEventText[]>;
  /**
   * Catch-up from `after`, then live tail. onBatch is awaited before the next
   * batch; the subscription never skips and never redelivers an event.
   */
  subscribe(options: SubscribeOptions): Subscription;
  /**
   * Calls `listener` after appends commit (this process's, and where the
   * adapter hears of them, other processes'), so a follower wakes at once;
   * without it followers poll. Returns the unsubscribe function.
   */
  onAppend?(listener: () => void): () => void;
  /** Stops every subscription, then releases the store. */
  close(): Promise<void>;
}

export class ConcurrencyError extends Error {
  /** Stable across adapters, for callers that match on a code rather than a class. */
  readonly code = 'WRONG_EXPECTED_REVISION';

  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'ConcurrencyError';
  }
}

/** Where a conflicting event is in the failed call, and what it conflicts with. */
export interface EventIdConflict {
  id: string;
  /** Index of its request in the call (always 0 for append). */
  requestIndex: number;
  /** Index of the event in that request's events. */
  eventIndex: number;
  /** The earlier event of the same call whose content differs; absent when the id was stored before the call. */
  earlier?: { requestIndex: number; eventIndex: number };
}

/** A call reused event ids with different content (see "Idempotency" above); nothing of it was written. */
export class EventIdConflictError extends Error {
  /** Stable across adapters, for callers that match on a code rather than a class. */
  readonly code = 'EVENT_ID_CONFLICT';

  constructor(readonly conflicts: readonly EventIdConflict[]) {
    const listed = conflicts.slice(0, MAX_LISTED_CONFLICTS).map((c) => JSON.stringify(c.id));
    const more = conflicts.length > listed.length ? ` and ${conflicts.length - listed.length} more` : '';
    super(`event ids reused with a different type or data: ${listed.join(', ')}${more}`);
    this.name = 'EventIdConflictError';
  }
}

/** Keeps the message of a hostile 10,000-conflict batch short; the full list is in `conflicts`. */
const MAX_LISTED_CONFLICTS = 10;

interface EventContent {
  type: string;
  data: unknown;
}

/**
 * The idempotency rule's "same content", shared so every adapter decides it
 * the same way: the same type, and data equal as JSON values (as they are
 * stored: undefined is null, key order does not matter).
 */
export function sameEventContent(a: EventContent, b: EventContent): boolean {
  return a.type === b.type && canonicalJson(a.data) === canonicalJson(b.data);
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, nested: unknown) => (isJsonObject(nested) ? sortedKeys(nested) : nested)) ?? 'null';
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A copy with its keys in one order; JSON.stringify then visits the nested
 * values through the replacer too. fromEntries defines own properties, so a
 * "__proto__" key (JSON.parse makes one) stays data instead of a prototype.
 */
function sortedKeys(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(object)
      .sort()
      .map((key) => [key, object[key]]),
  );
}

/** The expected-revision rule, shared so every adapter decides it the same way. */
export function matchesExpectedRevision(expected: ExpectedRevision, actual: number | 'no_stream'): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === 'no_stream';
    case 'stream_exists':
      return actual !== 'no_stream';
    default:
      return actual === expected;
  }
}
