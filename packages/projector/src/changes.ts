import type Database from 'better-sqlite3';
import type { ProjectionStore } from './store/projection-store.js';

/**
 * Derived changes: what the live projector noticed while it flushed, for the
 * API's Server-Sent Events. Each has a sequence number (the SSE id): a client
 * that reconnects with Last-Event-ID gets what it missed, as far back as the
 * feed keeps (the last 10,000; older ones are told as ChangesLost). Only the live projector records them, not a
 * rebuild or a what-if. A change compares a lead's event-time state with the
 * one written before, so it reports where the lead is now, not every step in
 * between (a lead that went from lead to SQL within one flush is one change).
 */
export interface StageChanged {
  readonly seq: number;
  readonly type: 'stage_changed';
  readonly leadId: string;
  /** the stage the lead was in when it was last written; null when it had none */
  readonly from: string | null;
  readonly to: string;
  /** ISO time the lead entered `to` */
  readonly at: string;
  readonly rule: string;
  readonly configVersion: string;
}

export interface LeadHot {
  readonly seq: number;
  readonly type: 'lead_hot';
  readonly leadId: string;
  readonly stage: string | null;
  readonly scores: { readonly fit: number; readonly engagement: number; readonly total: number };
  /** ISO time of the event that made the lead hot (its last event) */
  readonly at: string;
  readonly configVersion: string;
}

export type DerivedChange = StageChanged | LeadHot;
/** A change before the feed numbers it. */
export type DerivedChangeBody = Omit<StageChanged, 'seq'> | Omit<LeadHot, 'seq'>;

/**
 * Not a change: the feed no longer holds changes `fromSeq`..`toSeq` that a
 * follower had not read (trimmed to the retention, or emptied by a rebuild).
 * Whatever the follower shows may be stale: it should fetch that state again.
 * `seq` is `toSeq`, so a follower that records it resumes right after the gap.
 */
export interface ChangesLost {
  readonly seq: number;
  readonly type: 'changes_lost';
  readonly fromSeq: number;
  readonly toSeq: number;
}

/** What a follower of the feed gets: the changes, and a ChangesLost before them where some are gone. */
export type ChangeFeedItem = DerivedChange | ChangesLost;

interface FeedStatements {
  after: Database.Statement<[number, number], StoredChange>;
  last: Database.Statement<[], number | undefined>;
  /** reads the held changes and the last number given out from one snapshot (another process may write the file in between) */
  snapshot: <T>(read: () => T) => T;
}

const statements = new WeakMap<Database.Database, FeedStatements>();

function statementsOf(db: Database.Database): FeedStatements {
  let s = statements.get(db);
  if (s === undefined) {
    const transaction = db.transaction((read: () => unknown) => read());
    s = {
      after: db.prepare<[number, number], StoredChange>('SELECT seq, payload FROM derived_changes WHERE seq > ? ORDER BY seq LIMIT ?'),
      // AUTOINCREMENT's counter: the last number given out, which a trim or a rebuild (they delete rows) leaves as it was
      last: db.prepare<[], number | undefined>("SELECT seq FROM sqlite_sequence WHERE name = 'derived_changes'").pluck(),
      snapshot: <T>(read: () => T) => transaction(read) as T,
    };
    statements.set(db, s);
  }
  return s;
}

/** A stored change: its number and the JSON payload the writer stored (`derived_changes`). */
export interface StoredChange {
  seq: number;
  payload: string;
}

export const parseChange = (r: StoredChange): DerivedChange => ({ seq: r.seq, ...(JSON.parse(r.payload) as DerivedChangeBody) }) as DerivedChange;

/** Stored changes after `afterSeq`, oldest first. */
export function readChanges(projections: ProjectionStore, afterSeq: number, limit = 1000): DerivedChange[] {
  return statementsOf(projections.db).after.all(afterSeq, limit).map(parseChange);
}

/** The sequence number of the newest change ever recorded (0 when none was), held or not: where a new client starts. */
export function lastChangeSeq(projections: ProjectionStore): number {
  return statementsOf(projections.db).last.get() ?? 0;
}

/**
 * The next read of a follower at `afterSeq`: up to `limit` held changes
 * after it, preceded by a ChangesLost when the first of them is not
 * `afterSeq + 1`.
 *
 * Why a hole means a loss: sequence numbers are contiguous. They are
 * AUTOINCREMENT rowids given out inside the flush's one IMMEDIATE transaction
 * (a single writer), and a flush that fails rolls back its rows together with
 * the counter, so no number is skipped; rows leave the table only by deletion,
 * oldest first (the trim) or all at once (a rebuild). When nothing after
 * `afterSeq` is held, the counter says whether anything was given out after it.
 * False positives: none from the numbering (SQLite skips a number only for an
 * insert that fails inside a transaction that then commits, which the writer
 * never does). The one marker that may tell a client nothing new is to one
 * that starts from 0 on a trimmed feed: it had nothing to be stale, yet is told
 * that changes 1..n are gone (true, and refetching is cheap).
 * Not detected: a client whose position is beyond the counter (a number from
 * another projections file, e.g. one swapped in after a rebuild elsewhere)
 * waits silently until the new numbering passes it.
 */
export function readFollowing(projections: ProjectionStore, afterSeq: number, limit = 1000): ChangeFeedItem[] {
  const s = statementsOf(projections.db);
  return s.snapshot(() => followingOf(afterSeq, s.after.all(afterSeq, limit).map(parseChange), s.last.get() ?? 0));
}

/**
 * The next read of a follower at `afterSeq` from what one snapshot of a feed
 * holds after it (`held`, oldest first) and the last number it gave out:
 * a ChangesLost first where the held ones do not start at `afterSeq + 1`.
 */
export function followingOf(afterSeq: number, held: readonly DerivedChange[], lastSeq: number): ChangeFeedItem[] {
  const firstHeld = held[0]?.seq ?? lastSeq + 1;
  if (firstHeld <= afterSeq + 1) return [...held];
  return [{ seq: firstHeld - 1, type: 'changes_lost', fromSeq: afterSeq + 1, toSeq: firstHeld - 1 } satisfies ChangesLost, ...held];
}

/**
 * Wakes waiting readers after each flush. Readers pull from the table, so a
 * reader never misses a change between reading the backlog and waiting.
 */
export class ChangeSignal {
  #waiters: (() => void)[] = [];
  #closed = false;

  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  close(): void {
    this.#closed = true;
    this.notify();
  }

  get closed(): boolean {
    return this.#closed;
  }

  next(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/**
 * Changes after `afterSeq` (default: only new ones), then each as it is
 * flushed, until the projector stops or the consumer calls `return()`, which
 * ends a pending `next()` at once (an SSE client that went away does not wait
 * for the next flush). Every read checks for a gap (readFollowing), not just
 * the first: a follower slower than the trim is told too.
 */
export function followChanges(projections: ProjectionStore, signal: ChangeSignal, afterSeq?: number): AsyncGenerator<ChangeFeedItem, void, undefined> {
  let seq = afterSeq ?? lastChangeSeq(projections);
  let pending: ChangeFeedItem[] = [];
  let finished = false;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const done = { done: true, value: undefined } as const;

  const follower: AsyncGenerator<ChangeFeedItem, void, undefined> = {
    async next() {
      for (;;) {
        if (finished) return done;
        const change = pending.shift();
        if (change !== undefined) return { done: false, value: change };
        const wake = signal.next();
        pending = readFollowing(projections, seq);
        if (pending.length > 0) {
          seq = pending.at(-1)!.seq;
          continue;
        }
        if (signal.closed) finished = true;
        else await Promise.race([wake, stopped]);
      }
    },
    async return() {
      finished = true;
      stop();
      return done;
    },
    async throw(err: unknown) {
      finished = true;
      stop();
      throw err;
    },
    [Symbol.asyncIterator]: () => follower,
  };
  return follower;
}

/** The feed read in batches after a sequence number, as a follower on @sluice/follower reads its source (the lead-changes publisher). */
export interface ChangeFeedSource {
  /** the last number given out (0 when none was): a follower that has passed it has everything */
  head(): number;
  /** up to `max` changes after `afterSeq`, with a ChangesLost first where changes after it are gone (readFollowing) */
  read(afterSeq: number, max: number): ChangeFeedItem[];
  /** calls `wake` as changes are flushed, so the follower need not poll for them */
  listen(wake: () => void): () => void;
}

/**
 * The change feed as a pull source. Waking rides on `live`, the projector's
 * own `changes()` (its flush signal is not exposed): a reader of new changes
 * only, which wakes the follower for each. Should it fail, the follower still
 * polls.
 */
export function changeFeedSource(projections: ProjectionStore, live: () => AsyncGenerator<ChangeFeedItem, void, undefined>): ChangeFeedSource {
  return {
    head: () => lastChangeSeq(projections),
    read: (afterSeq, max) => readFollowing(projections, afterSeq, max),
    listen(wake) {
      const changes = live();
      const wakeOnEach = async () => {
        while (!(await changes.next()).done) wake();
      };
      wakeOnEach().catch(() => undefined);
      return () => void changes.return();
    },
  };
}
