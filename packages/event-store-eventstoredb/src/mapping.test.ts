// The pure half of the EventStoreDB adapter, which runs without a server.
import {
  CancelledError,
  NO_STREAM,
  NotLeaderError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { ConcurrencyError } from '@sluice/event-store';
import {
  StreamNames,
  comparePositions,
  eventUuid,
  exactExpectedRevision,
  fromPortPosition,
  isSubscriptionDrop,
  isTransient,
  parseIdClaim,
  parseStoredMetadata,
  toConcurrencyError,
  toPortActual,
  toPortPosition,
} from './mapping.js';

describe('event UUIDs', () => {
  it('when a Sluice id is mapped, then it is its RFC 4122 version 5 UUID in the URL namespace', () => {
    // Reference values from Python's uuid.uuid5(uuid.NAMESPACE_URL, name).
    expect(eventUuid('www.example.com')).toBe('b63cdfa4-3df9-568e-97ae-006c5b8fd652');
    expect(eventUuid('évènement-1')).toBe('ed2bedf9-db34-5302-a5c6-82489dc3c5e1');
  });

  it('then the same id always maps to the same UUID and different ids to different ones', () => {
    expect(eventUuid('e1')).toBe(eventUuid('e1'));
    expect(eventUuid('e1')).not.toBe(eventUuid('e2'));
    expect(eventUuid('e1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('stream names', () => {
  const names = new StreamNames('tenant_a');

  it("when a port stream id is mapped, then it lives under '<ns>:stream:' and maps back", () => {
    expect(names.eventStream('lead-42')).toBe('tenant_a:stream:lead-42');
    expect(names.portStreamId('tenant_a:stream:lead-42')).toBe('lead-42');
    expect(names.portStreamId(names.eventStream('anon-x:y'))).toBe('anon-x:y');
  });

  it('then system streams, id-index streams and other namespaces are not this store’s streams', () => {
    expect(names.portStreamId('$stats-127.0.0.1:2113')).toBeUndefined();
    expect(names.portStreamId(names.idStream('e1'))).toBeUndefined();
    expect(names.portStreamId('tenant_a-b:stream:lead-1')).toBeUndefined();
    expect(names.portStreamId(new StreamNames('tenant').eventStream('lead-1'))).toBeUndefined();
  });

  it('when an id is indexed, then its index stream is named by the SHA-256 of the id, whatever its length or characters', () => {
    // Reference value from Python's hashlib.sha256(b'e1').hexdigest().
    expect(names.idStream('e1')).toBe('tenant_a:id:8b5cc4df7eec7d32a7814eca4af047ae33b2d52342667715682e19c25b0b9faa');
    expect(names.idStream('a'.repeat(10_000))).toHaveLength('tenant_a:id:'.length + 64);
    expect(names.idStream('e1')).not.toBe(names.idStream('e2'));
  });

  it('when a namespace could blur the prefixes, then it is refused', () => {
    for (const namespace of ['', 'a:b', '$system', 'a b', 'x'.repeat(65)]) {
      expect(() => new StreamNames(namespace)).toThrow(RangeError);
    }
  });
});

describe('global positions', () => {
  it('when an event has a $all position, then its port position is the commit position', () => {
    expect(toPortPosition({ commit: 1234n, prepare: 1234n })).toBe(1234);
    expect(toPortPosition({ commit: 2n ** 53n - 1n, prepare: 2n ** 53n - 1n })).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('when the commit position is 0 or beyond 2^53, then it is refused rather than rounded', () => {
    expect(() => toPortPosition({ commit: 0n, prepare: 0n })).toThrow(RangeError);
    expect(() => toPortPosition({ commit: 2n ** 53n, prepare: 2n ** 53n })).toThrow(/not a port position/);
  });

  it("when resuming after a port position, then 0 is the start and n is the event's exact $all position", () => {
    expect(fromPortPosition(0)).toBe('start');
    expect(fromPortPosition(1234)).toEqual({ commit: 1234n, prepare: 1234n });
    expect(toPortPosition(fromPortPosition(987_654_321) as { commit: bigint; prepare: bigint })).toBe(987_654_321);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => fromPortPosition(bad)).toThrow(RangeError);
  });

  it('then positions order by commit, then prepare', () => {
    expect(comparePositions({ commit: 5n, prepare: 5n }, { commit: 7n, prepare: 1n })).toBe(-1);
    expect(comparePositions({ commit: 7n, prepare: 3n }, { commit: 7n, prepare: 1n })).toBe(1);
    expect(comparePositions({ commit: 7n, prepare: 3n }, { commit: 7n, prepare: 3n })).toBe(0);
  });
});

describe('expected revisions and errors', () => {
  it('when the adapter appends, then it expects the exact head it checked: no stream, or the revision as a bigint', () => {
    expect(exactExpectedRevision('no_stream')).toBe(NO_STREAM);
    expect(exactExpectedRevision(0)).toBe(0n);
    expect(exactExpectedRevision(41)).toBe(41n);
    expect(toPortActual(NO_STREAM)).toBe('no_stream');
    expect(toPortActual(41n)).toBe(41);
  });

  it("when the server reports a wrong expected version, then it becomes the port's ConcurrencyError with the caller's expectation", () => {
    const moved = new WrongExpectedVersionError(undefined, { streamName: 'ns:stream:lead-1', expected: 1n, current: 2n });
    const missing = new WrongExpectedVersionError(undefined, { streamName: 'ns:stream:lead-1', expected: 0n, current: NO_STREAM });

    const error = toConcurrencyError(moved, 'lead-1', 1);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect({ code: error.code, streamId: error.streamId, expected: error.expected, actual: error.actual }).toEqual({
      code: 'WRONG_EXPECTED_REVISION',
      streamId: 'lead-1',
      expected: 1,
      actual: 2,
    });
    expect(toConcurrencyError(missing, 'lead-1', 'stream_exists')).toMatchObject({ expected: 'stream_exists', actual: 'no_stream' });
  });

  it('then a dropped connection or a leader change is retried, and nothing else is', () => {
    // The client builds NotLeaderError from the gRPC error's metadata naming the new leader.
    const leaderMoved = { message: 'not leader', metadata: { getMap: () => ({ 'leader-endpoint-host': 'es-2', 'leader-endpoint-port': '2113' }) } };
    const notLeader = new NotLeaderError(leaderMoved as unknown as ConstructorParameters<typeof NotLeaderError>[0]);
    expect(notLeader.leader).toEqual({ address: 'es-2', port: 2113 });
    expect([new UnavailableError(), notLeader].map(isTransient)).toEqual([true, true]);
    expect(
      [
        new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 1n }),
        new CancelledError(),
        new Error('boom'),
        'not an error',
      ].map(isTransient),
    ).toEqual([false, false, false, false]);
  });

  it('then a subscription also resubscribes after the server cancels or fails the call, but not after a wrong expected version', () => {
    expect([new UnavailableError(), new CancelledError(), new UnknownError()].map(isSubscriptionDrop)).toEqual([true, true, true]);
    expect(isSubscriptionDrop(new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 1n }))).toBe(false);
    expect(isSubscriptionDrop(new TypeError('a bug'))).toBe(false);
  });
});

describe('what the adapter reads back', () => {
  it('when event metadata is ours, then the Sluice id and the caller metadata come back; otherwise it names the event', () => {
    expect(parseStoredMetadata({ sluiceId: 'e1', metadata: { source: 'crm' } }, 's@0')).toEqual({
      sluiceId: 'e1',
      metadata: { source: 'crm' },
    });
    expect(parseStoredMetadata({ sluiceId: 'e1' }, 's@0')).toEqual({ sluiceId: 'e1' });
    expect(() => parseStoredMetadata({ $correlationId: 'x' }, 'ns:stream:lead-1@3')).toThrow(/ns:stream:lead-1@3: not an event this adapter wrote/);
    expect(() => parseStoredMetadata(undefined, 's@0')).toThrow(/not an event this adapter wrote/);
  });

  it('when an id claim is read, then its id, stream and revision are checked', () => {
    expect(parseIdClaim({ id: 'e1', streamId: 'lead-1', revision: 3 }, 'i@0')).toEqual({ id: 'e1', streamId: 'lead-1', revision: 3 });
    expect(() => parseIdClaim({ id: 'e1', streamId: 'lead-1', revision: -1 }, 'i@0')).toThrow(/i@0: not an id claim/);
    expect(() => parseIdClaim({ id: 'e1', revision: 3 }, 'i@0')).toThrow(/not an id claim/);
  });
});
