import type { EventStore } from '@sluice/event-store';
import type { SluiceEvent } from '@sluice/schemas';
import type { ParkedRecord } from '@sluice/follower';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Projection } from './engine/projection.js';
import { type ProjectionStore, contentHash, getLead, openProjectionStore, parkedInProjections, rebuild, startProjector } from './index.js';
import { bindConfig } from './store/projection-store.js';
import { type TempDir, appendAll, demoEvents, demoRules, eventsFor, isoAt, openEventStore, stitchedJourney, tempDir } from './test-support.js';

const rules = demoRules();

/** Events written straight into the log, as another writer or an older Sluice may have: no schema, no identity link derived. */
const poison = {
  /** a time that is none: the lead's evolve fails */
  badTime: { streamId: 'lead-L1', id: 'bad-time', type: 'visit', data: { id: 'bad-time', type: 'visit', leadId: 'L1', occurredAt: 'yesterday' } },
  /** no time at all, in an anonymous stream already merged into L1: the lead's evolve fails */
  noTime: { streamId: 'anon-v1', id: 'no-time', type: 'page_view', data: { id: 'no-time', type: 'page_view', anonymousId: 'v1', properties: {} } },
  /** a link whose lead side fails (the lead id is a number, so the histories never match): the visitor must stay unlinked */
  badLink: { streamId: 'anon-v9', id: 'bad-link', type: 'identity_linked', data: { id: 'bad-link', type: 'identity_linked', anonymousId: 'v9', leadId: 42, occurredAt: isoAt(3) } },
} as const;
type Poison = (typeof poison)[keyof typeof poison];

/**
 * A log with the poison events in the middle, each followed by more events of
 * the same subject: L1's demo request (which moves its stage) and later
 * visits, v9's visits after its bad link. `write(false)` writes the same log
 * without them: what the projector must equal.
 */
async function writeLog(store: EventStore, withPoison: boolean): Promise<void> {
  const journey = stitchedJourney();
  const visitor9 = eventsFor({ anonymousId: 'v9' }, 'v9');
  const lead1 = eventsFor({ leadId: 'L1' }, 'L1-late');
  const bad = async (p: Poison) => {
    if (withPoison) await store.append({ streamId: p.streamId, events: [{ id: p.id, type: p.type, data: p.data }] });
  };
  await appendAll(store, [...journey.slice(0, 5), visitor9('visit', isoAt(1))]);
  await bad(poison.badTime);
  await appendAll(store, journey.slice(5));
  await bad(poison.noTime);
  await bad(poison.badLink);
  await appendAll(store, [visitor9('visit', isoAt(4)), lead1('visit', isoAt(5)), lead1('meeting', isoAt(6)), ...demoEvents(400, 7)]);
}

const positionOf = async (store: EventStore, id: string) => (await store.readAll()).find((e) => e.id === id)!.position;

describe('an event the projector cannot apply', () => {
  let tmp: TempDir;
  let store: EventStore;
  let reference: ProjectionStore;
  const opened: ProjectionStore[] = [];
  const projections = (name: string) => {
    const p = openProjectionStore(tmp.path(name));
    opened.push(p);
    return p;
  };

  beforeEach(async () => {
    tmp = tempDir();
    store = await openEventStore(tmp.path('events.sqlite'));
    await writeLog(store, true);
    const clean = await openEventStore(tmp.path('clean.sqlite'));
    await writeLog(clean, false);
    reference = projections('reference.sqlite');
    await rebuild({ store: clean, projections: reference, config: rules });
    await clean.close();
  });
  afterEach(async () => {
    for (const p of opened.splice(0)) p.close();
    await store.close();
    tmp.remove();
  });

  const expectParked = async (p: ProjectionStore): Promise<ParkedRecord[]> => {
    const parked = parkedInProjections(p);
    expect(parked.map(({ parkedAt: _, ...row }) => row)).toEqual([
      { follower: 'projector', position: await positionOf(store, 'bad-time'), itemId: 'bad-time', itemType: 'visit', reason: 'not an ISO 8601 instant: "yesterday"' },
      { follower: 'projector', position: await positionOf(store, 'no-time'), itemId: 'no-time', itemType: 'page_view', reason: 'not an ISO 8601 instant: undefined' },
      { follower: 'projector', position: await positionOf(store, 'bad-link'), itemId: 'bad-link', itemType: 'identity_linked', reason: expect.stringMatching(/belongs to 42, not 42/) },
    ]);
    return parked;
  };

  it('given poison events in the middle of the log, when the live projector follows it (subjects evicted and folded again), then it parks them and every later event reaches the read models; a restart parks nothing again', async () => {
    const live = projections('live.sqlite');
    // a tiny cache and frequent flushes: L1 and v9 are folded again from the log after their poison events
    const options = { store, projections: live, config: rules, batchSize: 3, flushEvery: 4, cacheSize: 2 };
    const projector = startProjector(options);
    await projector.caughtUp();
    expect(projector.status()).toMatchObject({ parkedSinceStart: 3, position: await store.headPosition() });
    await projector.stop();

    expect(live.state().position).toBe(await store.headPosition());
    expect(contentHash(live)).toBe(contentHash(reference));
    const l1 = (await getLead({ projections: live }, 'L1'))!;
    expect(l1).toEqual((await getLead({ projections: reference }, 'L1'))!);
    expect(l1).toMatchObject({ stage: 'sql', touchpoints: 9 });
    // folded from the log as of its last event (passing the parked ones), the lead is its row
    expect(await getLead({ projections: live, store, config: rules }, 'L1', l1.lastTouchAt!)).toMatchObject({ stage: l1.stage, scores: l1.scores, touchpoints: l1.touchpoints });
    const parked = await expectParked(live);

    const again = startProjector(options);
    await again.caughtUp();
    await again.stop();
    expect(again.status().parkedSinceStart).toBe(0);
    expect(parkedInProjections(live)).toEqual(parked);
    expect(contentHash(live)).toBe(contentHash(reference));
  });

  it('given an event parked but not yet covered by a checkpoint (a crash before the flush), when the projection starts again from the checkpoint, then it passes the event without parking it twice', async () => {
    const p = projections('crash.sqlite');
    bindConfig(p, rules);
    const events = await store.readAll();
    const at = events.findIndex((e) => e.id === 'bad-time');
    const first = new Projection({ projections: p, store, config: rules, cacheSize: 100, recordChanges: false });
    await expect(first.apply(events)).rejects.toMatchObject({ name: 'ItemFailed', index: at });
    first.park(events[at]!, 'first reason');

    const second = new Projection({ projections: p, store, config: rules, cacheSize: 100, recordChanges: false });
    await second.apply(events.slice(0, at + 1));
    expect(second.position).toBe(events[at]!.position);
    expect(parkedInProjections(p).map((r) => r.reason)).toEqual(['first reason']);
  });

  it('given poison events, when the read models are rebuilt (twice), then the rebuild finishes, parks them and equals the live projector', async () => {
    const built = projections('rebuilt.sqlite');
    const result = await rebuild({ store, projections: built, config: rules, batchSize: 7, cacheSize: 2, flushEvery: 5 });
    expect(result).toMatchObject({ position: await store.headPosition(), parked: 3 });
    await expectParked(built);
    expect(contentHash(built)).toBe(contentHash(reference));

    expect(await rebuild({ store, projections: built, config: rules })).toMatchObject({ parked: 3 });
    await expectParked(built);

    const live = projections('live.sqlite');
    const projector = startProjector({ store, projections: live, config: rules });
    await projector.caughtUp();
    await projector.stop();
    expect(contentHash(live)).toBe(contentHash(built));
  });
});

describe('a read-model file that cannot be written for a while', () => {
  let tmp: TempDir;
  let store: EventStore;
  beforeEach(async () => {
    tmp = tempDir();
    store = await openEventStore(tmp.path('events.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('given the file full mid-stream, when the projector cannot flush, then it reports retrying with the reason, parks nothing, and catches up without a restart once there is room', async () => {
    const events: SluiceEvent[] = demoEvents(3000, 9);
    await appendAll(store, events.slice(0, 500));
    const projections = openProjectionStore(tmp.path('live.sqlite'));
    const projector = startProjector({ store, projections, config: rules, retry: { initialMs: 10, maxMs: 50 } });
    try {
      await projector.caughtUp();
      // no page more than it has: the next flush that needs one fails with SQLITE_FULL
      projections.db.pragma(`max_page_count = ${projections.db.pragma('page_count', { simple: true }) as number}`);
      await appendAll(store, events.slice(500));
      await vi.waitFor(() => expect(projector.status()).toMatchObject({ state: 'retrying', failure: { reason: 'database or disk is full' } }), { timeout: 30_000 });
      const caughtUp = projector.caughtUp();
      projections.db.pragma('max_page_count = 1073741823');
      await caughtUp;
      expect(projector.status()).toMatchObject({ position: await store.headPosition(), parkedSinceStart: 0 });
      expect(projector.status().failure).toBeUndefined();
      expect(parkedInProjections(projections)).toEqual([]);
    } finally {
      await projector.stop();
    }
    const rebuilt = openProjectionStore(tmp.path('rebuilt.sqlite'));
    await rebuild({ store, projections: rebuilt, config: rules });
    expect(contentHash(projections)).toBe(contentHash(rebuilt));
    rebuilt.close();
    projections.close();
  });
});
