import type { EventStore } from '@sluice/event-store';
import type { SluiceEvent } from '@sluice/schemas';
import { afterEach, beforeEach } from 'vitest';
import { rebuild } from './rebuild.js';
import { type ProjectionStore, openProjectionStore } from './store/projection-store.js';
import { type TempDir, appendAll, demoRules, openEventStore, stitchedJourney, tempDir } from './test-support.js';

export interface FreshStores {
  readonly tmp: TempDir;
  readonly store: EventStore;
  readonly projections: ProjectionStore;
}

/**
 * Test support: an empty event store and projections file for every test of
 * the calling describe block, closed and removed after it. (Separate from
 * test-support.ts, which child-process fixtures load without vitest.)
 */
export function freshStores(): FreshStores {
  let current: FreshStores | undefined;
  beforeEach(async () => {
    const tmp = tempDir();
    current = { tmp, store: await openEventStore(tmp.path('events.sqlite')), projections: openProjectionStore(tmp.path('projections.sqlite')) };
  });
  afterEach(async () => {
    current!.projections.close();
    await current!.store.close();
    current!.tmp.remove();
    current = undefined;
  });
  const get = () => {
    if (current === undefined) throw new Error('freshStores() is only available inside a test');
    return current;
  };
  return {
    get tmp() {
      return get().tmp;
    },
    get store() {
      return get().store;
    },
    get projections() {
      return get().projections;
    },
  };
}

export interface ProjectedJourney {
  readonly projections: ProjectionStore;
  /** The event store's last position after the append. */
  readonly position: number;
  /** The stream id of every appended event, in log order. */
  readonly streams: string[];
}

/**
 * Test support for events that must move no lead read model: each call
 * projects the stitched journey into stores of its own, as `arrange` places
 * other events around it (without it, the journey alone), so a test can
 * compare the read models with those of the plain journey. Everything the
 * calls opened is closed and removed after each test of the describe block.
 */
export function journeyProjections(): (name: string, arrange?: (journey: SluiceEvent[]) => SluiceEvent[]) => Promise<ProjectedJourney> {
  let tmp: TempDir | undefined;
  const stores: EventStore[] = [];
  const opened: ProjectionStore[] = [];
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(async () => {
    for (const p of opened.splice(0)) p.close();
    for (const s of stores.splice(0)) await s.close();
    tmp?.remove();
    tmp = undefined;
  });
  return async (name, arrange = (journey) => journey) => {
    if (tmp === undefined) throw new Error('journeyProjections() is only available inside a test');
    const store = await openEventStore(tmp.path(`${name}.events.sqlite`));
    stores.push(store);
    await appendAll(store, arrange(stitchedJourney()));
    const projections = openProjectionStore(tmp.path(`${name}.sqlite`));
    opened.push(projections);
    const result = await rebuild({ store, projections, config: demoRules() });
    return { projections, position: result.position, streams: (await store.readAll({ after: 0, maxCount: 100 })).map((e) => e.streamId) };
  };
}
