// The port's append rules as one pure planner, so adapters whose storage
// differs (rows in PostgreSQL, streams in EventStoreDB) decide duplicates,
// revisions and expectations identically.
import { ConcurrencyError, matchesExpectedRevision } from './port.js';
import type { AppendRequest, AppendResult } from './port.js';

export interface StoredEvent {
  streamId: string;
  revision: number;
  position: number;
}

/** An event this group will insert: its position is the `row`-th one drawn. */
interface PlannedEvent {
  streamId: string;
  revision: number;
  row: number;
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
 * a duplicate). A call that fails leaves no trace: it is planned against an
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

  /** Throws ConcurrencyError, planning nothing, when a request of the call that writes something fails its expectation. */
  plan(requests: readonly AppendRequest[]): PlannedCall {
    const known = new Map<string, StoredEvent | PlannedEvent>();
    const heads = new Map<string, number>();
    const rows: PlannedRow[] = [];
    const lookup = (id: string) => known.get(id) ?? this.#known.get(id);
    const results: PlannedResult[] = [];

    for (const { streamId, events, expectedRevision = 'any' } of requests) {
      const head = heads.get(streamId) ?? this.#heads.get(streamId);
      const actual = head ?? 'no_stream';
      let nextRevision = head === undefined ? 0 : head + 1;
      let originalRevision = -1;
      const planned: (StoredEvent | PlannedEvent)[] = [];
      const duplicate: boolean[] = [];
      let duplicates = 0;

      for (const event of events) {
        const original = lookup(event.id);
        if (original !== undefined) {
          planned.push(original);
          duplicate.push(true);
          duplicates++;
          if (original.streamId === streamId && original.revision > originalRevision) originalRevision = original.revision;
          continue;
        }
        const fresh: PlannedEvent = { streamId, revision: nextRevision++, row: this.rows.length + rows.length };
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
      if (!isPureRetry && !matchesExpectedRevision(expectedRevision, actual)) {
        throw new ConcurrencyError(streamId, expectedRevision, actual);
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
