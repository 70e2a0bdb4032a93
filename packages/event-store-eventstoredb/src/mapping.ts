/**
 * The pure half of the EventStoreDB adapter: how port values map onto
 * EventStoreDB's (stream names, event UUIDs, $all positions, expected
 * revisions, errors) and how what we store there is validated on the way back.
 * No I/O here, so all of it is unit-tested without a server.
 */
import { createHash } from 'node:crypto';
import {
  CancelledError,
  DeadlineExceededError,
  NO_STREAM,
  NotLeaderError,
  UnavailableError,
  UnknownError,
} from '@eventstore/db-client';
import type { AppendExpectedRevision, Position, WrongExpectedVersionError } from '@eventstore/db-client';
import { z } from 'zod';
import { ConcurrencyError } from '@sluice/event-store';
import type { ExpectedRevision } from '@sluice/event-store';

/**
 * Stream names of one store. A namespace keeps stores (and tests) sharing a
 * server apart; it cannot contain ':', so `<ns>:stream:` is a prefix no other
 * store's streams and none of our id-index streams match, and the
 * subscription's server-side prefix filter selects exactly this store's events
 * (system streams start with '$' and never match either).
 */
export class StreamNames {
  readonly eventPrefix: string;
  readonly #idPrefix: string;

  constructor(readonly namespace: string) {
    if (!NAMESPACE.test(namespace)) {
      throw new RangeError(`EventStoreDB namespace must match ${NAMESPACE}, got ${JSON.stringify(namespace)}`);
    }
    this.eventPrefix = `${namespace}:stream:`;
    this.#idPrefix = `${namespace}:id:`;
  }

  eventStream(streamId: string): string {
    return this.eventPrefix + streamId;
  }

  /** The port's stream id of one of our event streams; undefined for any other stream. */
  portStreamId(eventStoreStream: string): string | undefined {
    return eventStoreStream.startsWith(this.eventPrefix) ? eventStoreStream.slice(this.eventPrefix.length) : undefined;
  }

  /** The id-index stream that claims `eventId` (a hash: ids are arbitrary strings, stream names are not). */
  idStream(eventId: string): string {
    return this.#idPrefix + createHash('sha256').update(eventId, 'utf8').digest('hex');
  }
}

const NAMESPACE = /^[A-Za-z0-9_-]{1,64}$/;

/** RFC 4122 URL namespace: the Sluice id is hashed under it. */
const EVENT_ID_NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');

/**
 * The EventStoreDB event UUID of a Sluice event id: UUID v5 (SHA-1, RFC 4122
 * section 4.3). Deterministic, so an append retried with the same expected
 * revision carries the same UUIDs and the server's own idempotency check
 * recognises it instead of writing the events twice.
 */
export function eventUuid(eventId: string): string {
  const hash = createHash('sha1').update(EVENT_ID_NAMESPACE).update(eventId, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The port's global position of an event: its $all commit position. Appends
 * through gRPC are implicit transactions, in which every event's commit
 * position is its own log position (equal to its prepare position), so
 * distinct events never share one and the order is commit order. A number is
 * exact up to 2^53 bytes of transaction log (8 PiB); beyond that we refuse
 * rather than round.
 */
export function toPortPosition(position: Position): number {
  const commit = Number(position.commit);
  if (!Number.isSafeInteger(commit) || commit < 1) {
    throw new RangeError(`EventStoreDB commit position ${position.commit} is not a port position (1 to 2^53 - 1)`);
  }
  return commit;
}

/**
 * The $all position to resume after the port position `after` (0 = from the
 * start). `after` is a commit position this store handed out, whose prepare
 * position equals it (see toPortPosition), so (after, after) is the event's
 * exact position: exclusive for subscriptions, and inclusive reads drop it.
 */
export function fromPortPosition(after: number): Position | 'start' {
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new RangeError(`position must be a non-negative integer, got ${after}`);
  }
  if (after === 0) return 'start';
  const exact = BigInt(after);
  return { commit: exact, prepare: exact };
}

/** Orders two $all positions: commit first, then prepare (the server's own order). */
export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/** A port revision from an EventStoreDB one (0-based on both sides). */
export function toPortRevision(revision: bigint): number {
  const number = Number(revision);
  if (!Number.isSafeInteger(number) || number < 0) throw new RangeError(`stream revision ${revision} is not a safe JS integer`);
  return number;
}

/**
 * What the data append expects. The adapter checks the caller's expectation
 * itself (the port's rule ignores duplicates, which the server cannot know),
 * then always appends against the exact head it checked, so the append and
 * the revisions its id claims name cannot drift apart.
 */
export function exactExpectedRevision(head: number | 'no_stream'): AppendExpectedRevision {
  return head === 'no_stream' ? NO_STREAM : BigInt(head);
}

/** The port's view of EventStoreDB's "current revision" of a stream. */
export function toPortActual(current: bigint | typeof NO_STREAM): number | 'no_stream' {
  return current === NO_STREAM ? 'no_stream' : toPortRevision(current);
}

/** A server-side WrongExpectedVersionError as the port's ConcurrencyError (same stream, the caller's expectation). */
export function toConcurrencyError(
  error: WrongExpectedVersionError,
  streamId: string,
  expected: ExpectedRevision,
): ConcurrencyError {
  return new ConcurrencyError(streamId, expected, toPortActual(error.actualVersion));
}

/**
 * Errors after which the same call can simply be made again: the connection
 * dropped or the node stepped down. The client reconnects lazily on the next
 * call but never retries the failed one, so the adapter does; every call it
 * retries is idempotent (reads, and appends by their id claims and UUIDs).
 */
export function isTransient(error: unknown): boolean {
  return error instanceof UnavailableError || error instanceof DeadlineExceededError || error instanceof NotLeaderError;
}

/**
 * Errors that end a live subscription without anything being wrong with it:
 * the transient ones, plus the server cancelling the call (a node shutting
 * down, or dropping a consumer that fell too far behind) or failing it without
 * a status. Resubscribing after the last handled position is always safe.
 */
export function isSubscriptionDrop(error: unknown): boolean {
  return isTransient(error) || error instanceof CancelledError || error instanceof UnknownError;
}

/**
 * Event metadata as stored: the Sluice id (the server's id is its UUID) and
 * the caller's metadata, if any, kept apart so no caller key can collide.
 */
const storedMetadata = z.object({
  sluiceId: z.string(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type StoredMetadata = z.infer<typeof storedMetadata>;

export function parseStoredMetadata(metadata: unknown, where: string): StoredMetadata {
  const parsed = storedMetadata.safeParse(metadata);
  if (!parsed.success) throw new Error(`${where}: not an event this adapter wrote (${z.prettifyError(parsed.error)})`);
  return parsed.data;
}

/** The event type of a claim in an id-index stream. */
export const ID_CLAIM_TYPE = 'sluice-id-claimed';

/**
 * A claim: "event `id` is (or is being) written to stream `streamId` at
 * `revision`". The claimed slot decides its fate: the event there has the
 * id's UUID (stored), another event is there (the claimer lost its append:
 * the claim is void), or nothing is there yet (the claimer is in flight).
 */
const idClaim = z.object({ id: z.string(), streamId: z.string(), revision: z.number().int().nonnegative() });
export type IdClaim = z.infer<typeof idClaim>;

export function parseIdClaim(data: unknown, where: string): IdClaim {
  const parsed = idClaim.safeParse(data);
  if (!parsed.success) throw new Error(`${where}: not an id claim (${z.prettifyError(parsed.error)})`);
  return parsed.data;
}
