import type Database from 'better-sqlite3';
import type { ProjectionStore } from './store/projection-store.js';

/**
 * Derived changes: what the live projector noticed while it flushed, for the
 * API's Server-Sent Events. Each has a sequence number (the SSE id): a client
 * that reconnects with Last-Event-ID gets what it missed, as far back as the
 * feed keeps (the last 10,000). Only the live projector records them, not a
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

interface ChangeRow {
  seq: number;
  payload: string;
}

const statements = new WeakMap<Database.Database, { after: Database.Statement<[number, number], ChangeRow>; last: Database.Statement<[], number | null> }>();

function statementsOf(db: Database.Database) {
  let s = statements.get(db);
  if (s === undefined) {
    s = {
      after: db.prepare<[number, number], ChangeRow>('SELECT seq, payload FROM derived_changes WHERE seq > ? ORDER BY seq LIMIT ?'),
      last: db.prepare<[], number | null>('SELECT MAX(seq) FROM derived_changes').pluck(),
    };
    statements.set(db, s);
  }
  return s;
}

/** Stored changes after `afterSeq`, oldest first. */
export function readChanges(projections: ProjectionStore, afterSeq: number, limit = 1000): DerivedChange[] {
  return statementsOf(projections.db)
    .after.all(afterSeq, limit)
    .map((r) => ({ seq: r.seq, ...(JSON.parse(r.payload) as DerivedChangeBody) }) as DerivedChange);
}

/** The sequence number of the newest stored change (0 when there is none): where a new client starts. */
export function lastChangeSeq(projections: ProjectionStore): number {
  return statementsOf(projections.db).last.get() ?? 0;
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
 * for the next flush).
 */
export function followChanges(projections: ProjectionStore, signal: ChangeSignal, afterSeq?: number): AsyncGenerator<DerivedChange, void, undefined> {
  let seq = afterSeq ?? lastChangeSeq(projections);
  let pending: DerivedChange[] = [];
  let finished = false;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const done = { done: true, value: undefined } as const;

  const follower: AsyncGenerator<DerivedChange, void, undefined> = {
    async next() {
      for (;;) {
        if (finished) return done;
        const change = pending.shift();
        if (change !== undefined) return { done: false, value: change };
        const wake = signal.next();
        pending = readChanges(projections, seq);
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
