import type { EventStore, RecordedEvent } from './port.js';

/**
 * The global log as a follower's source (structurally @sluice/follower's
 * FollowerSource<RecordedEvent>): the projector and the ClickHouse touchpoint
 * sink read it in position order after their checkpoints.
 */
export function logSource(store: EventStore) {
  return {
    head: () => store.headPosition(),
    read: (after: number, max: number) => store.readAll({ after, maxCount: max }),
    positionOf: (event: RecordedEvent) => event.position,
    ...(store.onAppend ? { listen: (wake: () => void) => store.onAppend!(wake) } : {}),
  };
}
