import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  streamNameFilter,
} from '@eventstore/db-client';
import type {
  AllStreamRecordedEvent,
  AppendExpectedRevision,
  Direction,
  EventData,
  JSONType,
  Position,
  ReadPosition,
  ReadStreamOptions as ClientReadStreamOptions,
  RecordedEvent as ClientRecordedEvent,
  StreamingRead,
} from '@eventstore/db-client';
import { EventIdConflictError } from '@sluice/event-store';
import type {
  AppendRequest,
  AppendResult,
  EventStore,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '@sluice/event-store';
import { AppendPlanner, LiveSubscriptions } from '@sluice/event-store/support';
import type { PlannedRow, StoredEvent } from '@sluice/event-store/support';
import {
  ID_CLAIM_TYPE,
  StreamNames,
  comparePositions,
  eventUuid,
  exactExpectedRevision,
  fromPortPosition,
  isTransient,
  parseIdClaim,
  parseStoredMetadata,
  toConcurrencyError,
  toPortPosition,
  toPortRevision,
} from './mapping.js';
import type { IdClaim, StoredMetadata } from './mapping.js';
import { EventStoreDbSubscription } from './subscription.js';
import type { ReconnectPolicy } from './subscription.js';

export interface EventStoreDbEventStoreOptions {
  /** An @eventstore/db-client connection string, e.g. esdb://host:2113?tls=false */
  connectionString: string;
  /**
   * Prefix of every stream this store writes (letters, digits, '_' and '-').
   * One namespace, one store: several stores can share a server. Default 'sluice'.
   */
  namespace?: string;
  /** Attempts (and the pause before each retry, growing linearly) of one call that fails transiently. Default 5 and 200 ms. */
  retry?: { attempts: number; delayMs: number };
  /** How a live subscription resubscribes after a drop. Default 200 ms doubling up to 10 s. */
  reconnect?: ReconnectPolicy;
  /** Events per $all read when readAll/headPosition scan the log. Default 512. */
  readPageSize?: number;
  /** The server sends a filter checkpoint every this many times 32 events scanned. Default 1. */
  checkpointInterval?: number;
}

/**
 * Connects to EventStoreDB (22.6 or later: stream reads must carry $all
 * positions) and checks the log can be read. No schema: streams appear as
 * they are written. close() releases the connection.
 */
export async function openEventStoreDbEventStore(options: EventStoreDbEventStoreOptions): Promise<EventStore> {
  const names = new StreamNames(options.namespace ?? 'sluice');
  const client = EventStoreDBClient.connectionString(options.connectionString);
  try {
    // Fails fast on a wrong address or credentials without $all read access, which every operation here needs.
    await collect(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }));
  } catch (err) {
    await client.dispose();
    throw err;
  }
  return new EventStoreDbEventStore(client, names, options);
}

/**
 * Appending event `id` would write it where a claim by another, unfinished
 * append says it is being written. Retriable: the claim resolves once that
 * append lands (the id becomes a duplicate) or its stream moves past the
 * claimed revision (the claim is void).
 */
export class EventIdInFlightError extends Error {
  readonly code = 'EVENT_ID_IN_FLIGHT';

  constructor(
    readonly eventId: string,
    readonly claim: Pick<IdClaim, 'streamId' | 'revision'>,
  ) {
    super(`event ${eventId} is being appended to ${claim.streamId} at revision ${claim.revision} by another writer`);
    this.name = 'EventIdInFlightError';
  }
}

/** What an id's index stream says about it. */
type IdState =
  | { kind: 'stored'; event: RecordedEvent }
  /** Never claimed, or its claim is void: claim it expecting `indexRevision`. */
  | { kind: 'free'; indexRevision: AppendExpectedRevision }
  | { kind: 'pending'; claim: IdClaim; indexRevision: bigint };

/** Rounds of "read heads and claims, claim, append" one append may take when writers race it. */
const MAX_APPEND_ROUNDS = 5;

class EventStoreDbEventStore implements EventStore {
  /** EventStoreDB has no transaction across streams: appendMany applies its requests one by one, in order. */
  readonly capabilities = { atomicMultiStreamAppend: false };

  readonly #client: EventStoreDBClient;
  readonly #names: StreamNames;
  readonly #retry: { attempts: number; delayMs: number };
  readonly #reconnect: ReconnectPolicy;
  readonly #pageSize: number;
  readonly #checkpointInterval: number;
  readonly #subscriptions = new LiveSubscriptions<EventStoreDbSubscription>();
  /** Appends under way, which close() lets finish before the connection goes. */
  readonly #appending = new Set<Promise<AppendResult>>();
  #closed = false;

  constructor(client: EventStoreDBClient, names: StreamNames, options: EventStoreDbEventStoreOptions) {
    this.#client = client;
    this.#names = names;
    this.#retry = options.retry ?? { attempts: 5, delayMs: 200 };
    this.#reconnect = options.reconnect ?? { initialDelayMs: 200, maxDelayMs: 10_000 };
    this.#pageSize = options.readPageSize ?? 512;
    this.#checkpointInterval = options.checkpointInterval ?? 1;
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    this.#assertOpen();
    /** Ids this append has claimed, kept across its retries and rounds: it may move its own pending claims. */
    const ownClaims = new Set<string>();
    const appending = this.#withRetry(() => this.#appendOne(request, ownClaims));
    this.#appending.add(appending);
    try {
      return await appending;
    } finally {
      this.#appending.delete(appending);
    }
  }

  /**
   * Not atomic: request i is durable before request i + 1 starts, and the first
   * failure stops the batch with the earlier requests written. Retrying the
   * whole batch with the same ids is safe (the written ones come back as
   * duplicates), which is how callers stay correct (touchpoint-log retries a
   * batch; its identity links have ids derived from their touchpoints).
   * A conflict, which no retry cures, is looked for across the whole call
   * before the first request is written, so only an append racing this one
   * can make a conflict surface half way.
   */
  async appendMany(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    if (requests.length > 1) await this.#refuseConflicts(requests);
    const results: AppendResult[] = [];
    for (const [requestIndex, request] of requests.entries()) {
      try {
        results.push(await this.append(request));
      } catch (err) {
        throw err instanceof EventIdConflictError ? inRequest(err, requestIndex) : err;
      }
    }
    return results;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const fromRevision = checkedCount('fromRevision', options.fromRevision ?? 0);
    const maxCount = options.maxCount === undefined ? undefined : checkedCount('maxCount', options.maxCount);
    if (maxCount === 0) return [];
    const events = await this.#withRetry(() =>
      this.#readStreamEvents(this.#names.eventStream(streamId), {
        fromRevision: BigInt(fromRevision),
        ...(maxCount === undefined ? {} : { maxCount }),
      }),
    );
    return events.map((event) => this.#toPortEvent(event)!);
  }

  /**
   * Scans $all from `after`, keeping this store's events. The client (6.x)
   * offers the server-side filter only on subscriptions, so the scan also
   * reads system events and other stores' events; subscribe() does not.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const maxCount = options.maxCount === undefined ? Infinity : checkedCount('maxCount', options.maxCount);
    const from = fromPortPosition(options.after ?? 0);
    const events: RecordedEvent[] = [];
    if (maxCount === 0) return events;
    for await (const recorded of this.#scanAll(FORWARDS, from)) {
      const event = this.#toPortEvent(recorded);
      if (event === undefined) continue;
      const previous = events.at(-1);
      if (previous !== undefined && event.position <= previous.position) {
        // Only legacy explicit transactions share a commit position; the port needs distinct ones.
        throw new Error(`events at $all commit position ${event.position} share it: this adapter cannot number them`);
      }
      events.push(event);
      if (events.length === maxCount) break;
    }
    return events;
  }

  /** Reads $all backwards to this store's last event (client-side filter, as in readAll). */
  async headPosition(): Promise<number> {
    for await (const recorded of this.#scanAll(BACKWARDS, 'end')) {
      const event = this.#toPortEvent(recorded);
      if (event !== undefined) return event.position;
    }
    return 0;
  }

  subscribe(options: SubscribeOptions): Subscription {
    this.#assertOpen();
    const subscription = new EventStoreDbSubscription(
      {
        open: (from, highWaterMark, onCheckpoint) =>
          this.#client.subscribeToAll(
            {
              fromPosition: from === 'start' ? START : from,
              // System streams start with '$', our id-index streams with '<ns>:id:': neither matches.
              filter: streamNameFilter({
                prefixes: [this.#names.eventPrefix],
                checkpointInterval: this.#checkpointInterval,
                checkpointReached: onCheckpoint,
              }),
            },
            { highWaterMark },
          ),
        toPortEvent: (event) => this.#toPortEvent(event),
        headPosition: () => this.headPosition(),
      },
      options,
      this.#reconnect,
    );
    return this.#subscriptions.track(subscription);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#appending]);
    await this.#subscriptions.stopAll();
    await this.#client.dispose();
  }

  /**
   * One append, made idempotent across streams by id claims (see README):
   * 1. read the stream's head and, per id, its index stream's claim and the
   *    slot the claim names; apply the port's rules (the shared planner) with
   *    the events found stored, so an id is a duplicate or, when the stored
   *    type or data differ, a conflict that fails the append before any claim;
   * 2. claim every new id (append to its index stream expecting no stream, or
   *    the void claim's revision): a claim names the exact stream and revision
   *    the event will take;
   * 3. append the new events with UUIDs derived from their ids, expecting the
   *    exact head read in 1, then read them back for their positions.
   * A race lost in 2 or 3 starts the round again, so it is judged on fresh
   * state: 'any' retries, a stale expectation becomes a ConcurrencyError.
   */
  async #appendOne(request: AppendRequest, ownClaims: Set<string>): Promise<AppendResult> {
    const { streamId } = request;
    const stream = this.#names.eventStream(streamId);
    const eventsById = new Map<string, NewEvent>();
    for (const event of request.events) if (!eventsById.has(event.id)) eventsById.set(event.id, event);

    for (let round = 1; ; round++) {
      const head = await this.#streamHead(stream);
      const states = new Map(
        await Promise.all([...eventsById.keys()].map(async (id) => [id, await this.#idState(id)] as const)),
      );
      const stored = new Map<string, StoredEvent>();
      for (const [id, state] of states) if (state.kind === 'stored') stored.set(id, state.event);
      const planner = new AppendPlanner(stored, head === 'no_stream' ? new Map() : new Map([[streamId, head]]));
      const call = planner.plan([request]);
      const rows = planner.rows;
      if (rows.length === 0) return call.resolve([])[0]!;

      const claims = rows.flatMap((row) => this.#claimToWrite(row, states.get(row.id)!, ownClaims));
      const claimed = await Promise.allSettled(
        claims.map(async ({ id, revision, expectedRevision }) => {
          const claim: IdClaim = { id, streamId, revision };
          await this.#client.appendToStream(this.#names.idStream(id), jsonEvent({ type: ID_CLAIM_TYPE, data: claim }), {
            expectedRevision,
          });
          ownClaims.add(id);
        }),
      );
      const lost = claimed.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
      if (lost.length > 0) {
        // Another writer claimed one of the ids since we looked: look again (it may now be a duplicate).
        if (round < MAX_APPEND_ROUNDS && lost.every((error) => error instanceof WrongExpectedVersionError)) continue;
        throw lost[0];
      }

      try {
        await this.#client.appendToStream(
          stream,
          rows.map((row) => this.#toEventData(eventsById.get(row.id)!)),
          { expectedRevision: exactExpectedRevision(head) },
        );
      } catch (err) {
        if (!(err instanceof WrongExpectedVersionError)) throw err;
        if (round < MAX_APPEND_ROUNDS) continue;
        throw toConcurrencyError(err, streamId, request.expectedRevision ?? 'any');
      }

      const firstRevision = rows[0]!.revision;
      const written = await this.#readStreamEvents(stream, { fromRevision: BigInt(firstRevision), maxCount: rows.length });
      const positions = rows.map((row, i) => {
        const event = written[i];
        if (event === undefined || event.id !== eventUuid(row.id)) {
          throw new Error(`${stream}: revision ${row.revision} does not hold event ${row.id} right after appending it`);
        }
        return this.#toPortEvent(event)!.position;
      });
      return call.resolve(positions)[0]!;
    }
  }

  /**
   * Throws the EventIdConflictError the call would fail with, judged on the
   * ids' stored events now and on the call's own repeats. Revisions are left
   * to each append (it reads the heads it appends against), so a planner
   * that knows no heads may fail them here: only its conflicts count, which
   * it reports in preference to them.
   */
  async #refuseConflicts(requests: readonly AppendRequest[]): Promise<void> {
    this.#assertOpen();
    const ids = [...new Set(requests.flatMap((request) => request.events.map((event) => event.id)))];
    const stored = new Map<string, StoredEvent>();
    await Promise.all(
      ids.map(async (id) => {
        const state = await this.#withRetry(() => this.#idState(id));
        if (state.kind === 'stored') stored.set(id, state.event);
      }),
    );
    try {
      new AppendPlanner(stored, new Map()).plan(requests);
    } catch (err) {
      if (err instanceof EventIdConflictError) throw err;
    }
  }

  /**
   * The claim write a new event needs, if any. A pending claim naming exactly
   * this event's stream and revision is adopted as it is: it is this append
   * retried (after a crash or a lost reply), or one racing it that writes the
   * same UUIDs at the same revisions, which the server's idempotency check
   * lets land only once.
   */
  #claimToWrite(row: PlannedRow, state: IdState, ownClaims: ReadonlySet<string>) {
    if (state.kind === 'stored') throw new Error(`event ${row.id} is stored but was planned as new`);
    if (state.kind === 'pending') {
      if (state.claim.streamId === row.streamId && state.claim.revision === row.revision) return [];
      if (!ownClaims.has(row.id)) throw new EventIdInFlightError(row.id, state.claim);
    }
    return [{ id: row.id, revision: row.revision, expectedRevision: state.indexRevision }];
  }

  async #idState(id: string): Promise<IdState> {
    const indexStream = this.#names.idStream(id);
    const [last] = await this.#readStreamEvents(indexStream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 });
    if (last === undefined) return { kind: 'free', indexRevision: NO_STREAM };
    const claim = parseIdClaim(last.data, `${indexStream}@${last.revision}`);
    if (claim.id !== id) throw new Error(`${indexStream} claims id ${JSON.stringify(claim.id)}, not ${JSON.stringify(id)}`);
    const [slot] = await this.#readStreamEvents(this.#names.eventStream(claim.streamId), {
      fromRevision: BigInt(claim.revision),
      maxCount: 1,
    });
    // Streams only grow: an empty slot is still to be written, a filled one never changes.
    if (slot === undefined) return { kind: 'pending', claim, indexRevision: last.revision };
    if (slot.id === eventUuid(id)) return { kind: 'stored', event: this.#toPortEvent(slot)! };
    return { kind: 'free', indexRevision: last.revision };
  }

  async #streamHead(stream: string): Promise<number | 'no_stream'> {
    const [last] = await this.#readStreamEvents(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 });
    return last === undefined ? 'no_stream' : toPortRevision(last.revision);
  }

  async #readStreamEvents(stream: string, options: ClientReadStreamOptions): Promise<ClientRecordedEvent[]> {
    try {
      const resolved = await collect(this.#client.readStream(stream, options));
      return resolved.flatMap(({ event }) => (event === undefined ? [] : [event]));
    } catch (err) {
      if (err instanceof StreamNotFoundError) return [];
      throw err;
    }
  }

  /**
   * Every event of $all from `from` on, in `direction`, page by page. A page
   * starts at the last position of the one before (and a forward read at
   * `from` itself), so what was already passed is skipped by position.
   */
  async *#scanAll(direction: Direction, from: Position | 'start' | 'end'): AsyncGenerator<AllStreamRecordedEvent> {
    let fromPosition: ReadPosition = from === 'start' ? START : from === 'end' ? END : from;
    let passed = typeof from === 'object' ? from : undefined;
    const sign = direction === FORWARDS ? 1 : -1;
    for (;;) {
      const page = await this.#withRetry(() =>
        collect(this.#client.readAll({ direction, fromPosition, maxCount: this.#pageSize })),
      );
      for (const { event } of page) {
        if (event === undefined) continue;
        if (passed !== undefined && sign * comparePositions(event.position, passed) <= 0) continue;
        passed = event.position;
        yield event;
      }
      if (page.length < this.#pageSize || passed === undefined) return;
      fromPosition = passed;
    }
  }

  /** The port's event for one of this store's events; undefined for any other stream's. */
  #toPortEvent(event: ClientRecordedEvent): RecordedEvent | undefined {
    const streamId = this.#names.portStreamId(event.streamId);
    if (streamId === undefined) return undefined;
    const where = `${event.streamId}@${event.revision}`;
    if (event.position === undefined) {
      throw new Error(`${where}: the server sent no $all position with a stream read (EventStoreDB 22.6 or later is needed)`);
    }
    if (!event.isJson) throw new Error(`${where}: not a JSON event, so not one this adapter wrote`);
    const stored = parseStoredMetadata(event.metadata, where);
    const recorded: RecordedEvent = {
      position: toPortPosition(event.position),
      streamId,
      revision: toPortRevision(event.revision),
      id: stored.sluiceId,
      type: event.type,
      data: event.data,
      recordedAt: event.created.toISOString(),
    };
    if (stored.metadata !== undefined) recorded.metadata = stored.metadata;
    return recorded;
  }

  #toEventData(event: NewEvent): EventData {
    const metadata: StoredMetadata = { sluiceId: event.id };
    if (event.metadata !== undefined) metadata.metadata = event.metadata;
    // The client writes data as JSON.stringify(data); undefined has no JSON text, so it is stored as null.
    const data = (event.data ?? null) as JSONType;
    return jsonEvent({ id: eventUuid(event.id), type: event.type, data, metadata });
  }

  /** The client reconnects on the next call after a dropped connection but never retries the failed one: we do. */
  async #withRetry<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (err) {
        if (!isTransient(err) || attempt >= this.#retry.attempts || this.#closed) throw err;
        await new Promise((resolve) => setTimeout(resolve, this.#retry.delayMs * attempt));
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('event store is closed');
  }
}

/** An append's conflicts as those of request `requestIndex` of an appendMany. */
function inRequest(error: EventIdConflictError, requestIndex: number): EventIdConflictError {
  return new EventIdConflictError(
    error.conflicts.map((conflict) => ({
      ...conflict,
      requestIndex,
      ...(conflict.earlier === undefined ? {} : { earlier: { ...conflict.earlier, requestIndex } }),
    })),
  );
}

async function collect<E>(read: StreamingRead<E>): Promise<E[]> {
  const items: E[] = [];
  for await (const item of read) items.push(item);
  return items;
}

function checkedCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}
