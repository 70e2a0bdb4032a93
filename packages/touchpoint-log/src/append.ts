import { EventIdConflictError } from '@sluice/event-store';
import type { AppendRequest, AppendResult, EventIdConflict, EventStore, NewEvent } from '@sluice/event-store';
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
  /** for each request, for each of its events: the input event it is, or derives from (an identity link) */
  sources: number[][];
}

/** An event of the batch that reuses a stored id, or an earlier event's id, with a different type or data. */
export interface TouchpointConflict {
  /** 0-based index of the event in the batch */
  index: number;
  id: string;
  /** the earlier event of the batch with that id and other content; absent when the id was stored before */
  earlierIndex?: number;
}

/** Why a conflicting event was refused, for a person: `earlier` names the batch's earlier event (its line, its row). */
export function conflictMessage(conflict: TouchpointConflict, earlier: (index: number) => string): string {
  return conflict.earlierIndex === undefined
    ? `${JSON.stringify(conflict.id)} is already stored with a different type or data (an exact re-import is skipped; a corrected event needs an id of its own)`
    : `${JSON.stringify(conflict.id)} is also the id of ${earlier(conflict.earlierIndex)}, with a different type or data`;
}

/**
 * The batch reuses event ids with other content (the store's rule: an id names
 * one event for good, so a correction needs an id of its own). Nothing of the
 * batch was written; each conflicting event is listed once, in batch order.
 */
export class TouchpointConflictError extends Error {
  readonly code = 'EVENT_ID_CONFLICT';

  constructor(readonly conflicts: readonly TouchpointConflict[]) {
    super(`${conflicts.length} event${conflicts.length === 1 ? '' : 's'} of the batch reuse an id with a different type or data; nothing was written`);
    this.name = 'TouchpointConflictError';
  }
}

/**
 * Groups validated events into one append request per stream (input order kept
 * within a stream) and adds the identity links that events carrying both ids
 * establish. Pure: the same batch always plans the same writes.
 */
export function planAppend(events: readonly SluiceEvent[]): PlannedAppend {
  const requestIndexByStream = new Map<string, number>();
  const requests: Array<{ streamId: string; events: NewEvent[] }> = [];
  const sources: number[][] = [];
  const add = (streamId: string, event: NewEvent, source: number): readonly [number, number] => {
    let r = requestIndexByStream.get(streamId);
    if (r === undefined) {
      r = requests.length;
      requestIndexByStream.set(streamId, r);
      requests.push({ streamId, events: [] });
      sources.push([]);
    }
    sources[r]!.push(source);
    return [r, requests[r]!.events.push(event) - 1];
  };
  const placement = events.map((event, index) => {
    const placed = add(streamFor(event), { id: event.id, type: event.type, data: event }, index);
    const link = identityLinkFor(event);
    if (link) add(`anon-${link.anonymousId}`, { id: link.id, type: link.type, data: link }, index);
    return placed;
  });
  return { requests, placement, sources };
}

/**
 * Appends a batch of validated touchpoints. All-or-nothing on stores that
 * support atomic multi-stream appends (SQLite, PostgreSQL). Safe to retry with
 * the same ids and content: duplicates write nothing and report their original
 * positions. An identity link is derived from its touchpoint alone, so a
 * retried touchpoint re-derives the very same link, a duplicate too. An id
 * reused with other content fails the batch with TouchpointConflictError.
 */
export async function appendTouchpoints(store: EventStore, events: readonly SluiceEvent[]): Promise<AppendTouchpointsResult> {
  if (events.length === 0) return { accepted: 0, duplicates: 0, positions: [] };
  const { requests, placement, sources } = planAppend(events);
  let results: AppendResult[];
  try {
    results = await store.appendMany(requests);
  } catch (err) {
    throw err instanceof EventIdConflictError ? touchpointConflicts(err, events, sources) : err;
  }
  let duplicates = 0;
  const positions = placement.map(([r, e]) => {
    if (results[r]!.duplicate[e]) duplicates++;
    return results[r]!.positions[e]!;
  });
  return { accepted: events.length - duplicates, duplicates, positions };
}

/**
 * The store's conflicts as the batch's events. A link conflicts only along
 * with its touchpoint (its content follows from the touchpoint's), but not
 * always with the same counterpart: a touchpoint whose id is stored without a
 * link conflicts with the stored one while its link may differ from the link
 * of an earlier copy in the batch. The touchpoint's own entry is the one kept.
 */
function touchpointConflicts(error: EventIdConflictError, events: readonly SluiceEvent[], sources: readonly number[][]): TouchpointConflictError {
  const byIndex = new Map<number, TouchpointConflict>();
  const derivedLast = [...error.conflicts].sort((a, b) => Number(isDerived(a)) - Number(isDerived(b)));
  for (const { requestIndex, eventIndex, earlier } of derivedLast) {
    const index = sources[requestIndex]![eventIndex]!;
    if (byIndex.has(index)) continue;
    const conflict: TouchpointConflict = { index, id: events[index]!.id };
    if (earlier !== undefined) conflict.earlierIndex = sources[earlier.requestIndex]![earlier.eventIndex]!;
    byIndex.set(index, conflict);
  }
  return new TouchpointConflictError([...byIndex.values()].sort((a, b) => a.index - b.index));

  function isDerived(conflict: EventIdConflict): boolean {
    return events[sources[conflict.requestIndex]![conflict.eventIndex]!]!.id !== conflict.id;
  }
}
