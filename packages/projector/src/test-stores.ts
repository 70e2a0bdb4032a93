import type { EventStore } from '@sluice/event-store';
import { afterEach, beforeEach } from 'vitest';
import { type ProjectionStore, openProjectionStore } from './store/projection-store.js';
import { type TempDir, openEventStore, tempDir } from './test-support.js';

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
