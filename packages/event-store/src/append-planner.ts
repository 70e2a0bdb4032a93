// The port's append rules as one pure planner, so adapters whose storage
// differs (rows in PostgreSQL, streams in EventStoreDB) decide duplicates,
// conflicts, revisions and expectations identically.
import { ConcurrencyError, EventIdConflictError, matchesExpectedRevision, sameEventContent } from './port.js';
import type { AppendRequest, AppendResult, EventIdConflict } from './port.js';

export interface StoredEvent {
  streamId: string;
  revision: number;
  position: number;
  /** The content a later event with this id must have to be a duplicate rather than a conflict. */
  type: string;
  data: unknown;
}

/** An event this group will insert: its position is the `row`-th one drawn. */
interface PlannedEvent {
  streamId: string;
  revision: number;
  row: number;
  type: string;
  data: unknown;
  /** Where it is in the call that planned it. */
  requestIndex: number;
  eventIndex: number;
}

export interface PlannedRow {
  streamId: string;
  revision: number;
  id: string;
  type: string;
  /** JSON text */
  data: string;
  metadata: string | null;
}

interface PlannedResult {
  streamId: string;
  nextExpectedRevision: number;
  events: (StoredEvent | PlannedEvent)[];
  duplicate: boolean[];
  duplicates: number;
}

export interface PlannedCall {
  /** Events this call inserts. */
  written: number;
  /** The call's results once every row's position (one per planner row, in order) is known. */
  resolve(positions: readonly number[]): AppendResult[];
}

/**
 * Decides, without I/O, what a group of appendMany calls writes: the port's
 * rules (see port.ts) over the stored events with the group's ids and the
 * heads of its streams. Calls and their requests apply in order, so a later
 * one sees an earlier one's events (same stream: revisions continue; same id:
 * a duplicate, or a conflict if its content differs). A call that fails leaves no trace: it is planned against an
 * overlay that joins the group only when the whole call succeeds.
 */
export class AppendPlanner {
  /** The rows to insert, in the order they take positions. */
  readonly rows: PlannedRow[] = [];
  readonly #known: Map<string, StoredEvent | PlannedEvent>;
  readonly #heads: Map<string, number>;

  constructor(stored: ReadonlyMap<string, StoredEvent>, heads: ReadonlyMap<string, number>) {
    this.#known = new Map(stored);
    this.#heads = new Map(heads);
  }

  /**
   * Plans nothing and throws when the call fails: EventIdConflictError listing
   * every event of the call that reuses an id with other content, else
   * ConcurrencyError for the first request that writes something and fails
   * its expectation.
   */
  plan(requests: readonly AppendRequest[]): PlannedCall {
    /** The call's own new events; an id found here is a repeat within the call. */
    const known = new Map<string, PlannedEvent>();
    const heads = new Map<string, number>();
    const rows: PlannedRow[] = [];
    const results: PlannedResult[] = [];
    const conflicts: EventIdConflict[] = [];
    let concurrencyError: ConcurrencyError | undefined;

    for (const [requestIndex, { streamId, events, expectedRevision = 'any' }] of requests.entries()) {
      const head = heads.get(streamId) ?? this.#heads.get(streamId);
      const actual = head ?? 'no_stream';
      let nextRevision = head === undefined ? 0 : head + 1;
      let originalRevision = -1;
      const planned: (StoredEvent | PlannedEvent)[] = [];
      const duplicate: boolean[] = [];
      let duplicates = 0;

      for (const [eventIndex, event] of events.entries()) {
        const earlier = known.get(event.id);
        const original = earlier ?? this.#known.get(event.id);
        if (original !== undefined) {
          if (!sameEventContent(original, event)) {
            const where = { id: event.id, requestIndex, eventIndex };
            conflicts.push(earlier === undefined ? where : { ...where, earlier: { requestIndex: earlier.requestIndex, eventIndex: earlier.eventIndex } });
            continue;
          }
          planned.push(original);
          duplicate.push(true);
          duplicates++;
          if (original.streamId === streamId && original.revision > originalRevision) originalRevision = original.revision;
          continue;
        }
        const fresh: PlannedEvent = {
          streamId,
          revision: nextRevision++,
          row: this.rows.length + rows.length,
          type: event.type,
          data: event.data,
          requestIndex,
          eventIndex,
        };
        rows.push({
          streamId,
          revision: fresh.revision,
          id: event.id,
          type: event.type,
          data: JSON.stringify(event.data) ?? 'null',
          metadata: event.metadata === undefined ? null : JSON.stringify(event.metadata),
        });
        known.set(event.id, fresh);
        planned.push(fresh);
        duplicate.push(false);
      }

      const isPureRetry = events.length > 0 && duplicates === events.length;
      // Not thrown yet: a conflict anywhere in the call takes precedence.
      if (!isPureRetry && !matchesExpectedRevision(expectedRevision, actual)) {
        concurrencyError ??= new ConcurrencyError(streamId, expectedRevision, actual);
      }
      if (nextRevision > 0) heads.set(streamId, nextRevision - 1);
      results.push({
        streamId,
        // A pure retry reports where the original append ended, not where the stream is now.
        nextExpectedRevision: isPureRetry && originalRevision >= 0 ? originalRevision : nextRevision - 1,
        events: planned,
        duplicate,
        duplicates,
      });
    }

    if (conflicts.length > 0) throw new EventIdConflictError(conflicts);
    if (concurrencyError !== undefined) throw concurrencyError;
    // The whole call passed: it joins the group.
    for (const [id, event] of known) this.#known.set(id, event);
    for (const [streamId, head] of heads) this.#heads.set(streamId, head);
    for (const row of rows) this.rows.push(row);
    return {
      written: rows.length,
      resolve: (positions) =>
        results.map(({ events, ...result }) => ({
          ...result,
          positions: events.map((event) => ('row' in event ? positions[event.row]! : event.position)),
        })),
    };
  }
}
