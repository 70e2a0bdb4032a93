import type { AppendRequest, EventStore, NewEvent } from '@sluice/event-store';
import { identityLinkFor, streamFor } from '@sluice/domain';
import type { SluiceEvent } from '@sluice/schemas';

export interface AppendTouchpointsResult {
  /** events written by this call */
  accepted: number;
  /** events whose id was already stored: nothing written, original position returned */
  duplicates: number;
  /** global position of each input event, in input order */
  positions: number[];
}

interface PlannedAppend {
  requests: AppendRequest[];
  /** for each input event: [request index, index inside that request] */
  placement: Array<readonly [number, number]>;
}

/**
 * Groups validated events into one append request per stream (input order kept
 * within a stream) and adds the identity links that events carrying both ids
 * establish. Pure: the same batch always plans the same writes.
 */
export function planAppend(events: readonly SluiceEvent[]): PlannedAppend {
  const requestIndexByStream = new Map<string, number>();
  const requests: Array<{ streamId: string; events: NewEvent[] }> = [];
  const requestFor = (streamId: string) => {
    let i = requestIndexByStream.get(streamId);
    if (i === undefined) {
      i = requests.length;
      requestIndexByStream.set(streamId, i);
      requests.push({ streamId, events: [] });
    }
    return requests[i]!;
  };
  const placement: Array<readonly [number, number]> = [];
  for (const event of events) {
    const request = requestFor(streamFor(event));
    placement.push([requestIndexByStream.get(request.streamId)!, request.events.length]);
    request.events.push({ id: event.id, type: event.type, data: event });
    const link = identityLinkFor(event);
    if (link) requestFor(`anon-${link.anonymousId}`).events.push({ id: link.id, type: link.type, data: link });
  }
  return { requests, placement };
}

/**
 * Appends a batch of validated touchpoints. All-or-nothing on stores that
 * support atomic multi-stream appends (SQLite, PostgreSQL). Safe to retry with
 * the same ids: duplicates write nothing and report their original positions.
 */
export async function appendTouchpoints(store: EventStore, events: readonly SluiceEvent[]): Promise<AppendTouchpointsResult> {
  if (events.length === 0) return { accepted: 0, duplicates: 0, positions: [] };
  const { requests, placement } = planAppend(events);
  const results = await store.appendMany(requests);
  let duplicates = 0;
  const positions = placement.map(([r, e]) => {
    if (results[r]!.duplicate[e]) duplicates++;
    return results[r]!.positions[e]!;
  });
  return { accepted: events.length - duplicates, duplicates, positions };
}
