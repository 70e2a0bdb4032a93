import type Database from 'better-sqlite3';
import type { StageTransition } from '@sluice/domain';
import type { CounterDelta } from './contribution.js';
import { LEAD_COLUMNS, type LeadRowValues, transitionRow } from './rows.js';

export class CheckpointMovedError extends Error {
  readonly code = 'PROJECTION_CHECKPOINT_MOVED';
  constructor(readonly expected: number) {
    super(`the projections checkpoint is no longer at ${expected}: another projector writes to the same file`);
    this.name = 'CheckpointMovedError';
  }
}

/** How many derived changes the feed keeps for resuming clients (by default). */
export const CHANGE_RETENTION = 10_000;

const upsertLeadSql = `INSERT INTO leads (${LEAD_COLUMNS.join(', ')}) VALUES (${LEAD_COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT (subject) DO UPDATE SET ${LEAD_COLUMNS.slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

/**
 * The flush's statements. `flush` runs its work in ONE IMMEDIATE transaction
 * that starts by moving the checkpoint, compare-and-set: a crash before the
 * commit leaves the previous checkpoint and the rows that go with it, and the
 * projector replays from there to the same result. Rows are written as they
 * are computed (not collected first), so a flush's garbage dies young.
 */
export class ProjectionWriter {
  readonly #moveCheckpoint: Database.Statement<[number, number]>;
  readonly #upsertLead: Database.Statement<LeadRowValues>;
  readonly #upsertTransition: Database.Statement;
  readonly #deleteTransition: Database.Statement<[string, string]>;
  readonly #deleteTransitions: Database.Statement<[string]>;
  readonly #addCounter: Database.Statement<[string, string, string, string, string, number, number, number], { leads: number; skipped: number; velocity_ms: number }>;
  readonly #deleteCounter: Database.Statement<[string, string, string, string, string]>;
  readonly #insertLink: Database.Statement<[string, string, string]>;
  readonly #markChanged: Database.Statement<[string, number]>;
  readonly #markDayChanged: Database.Statement<[string, number]>;
  /** the cohort days this flush has marked changed already (a flush touches a few days many times) */
  readonly #daysMarked = new Set<string>();
  readonly #insertChange: Database.Statement<[string, string, string]>;
  readonly #trimChanges: Database.Statement<[number]>;
  readonly #transaction: Database.Transaction<(work: () => unknown) => unknown>;
  readonly #changeRetention: number;
  /** the checkpoint the running flush moves to: what its subjects are marked changed at */
  #flushingTo = 0;

  /** `changeRetention`: how many of the newest derived changes addChanges keeps */
  constructor(db: Database.Database, changeRetention = CHANGE_RETENTION) {
    if (!Number.isSafeInteger(changeRetention) || changeRetention < 1) throw new RangeError(`changeRetention must be a positive integer, got ${changeRetention}`);
    this.#changeRetention = changeRetention;
    this.#moveCheckpoint = db.prepare('UPDATE projection_state SET position = ? WHERE id = 1 AND position = ?');
    this.#upsertLead = db.prepare<LeadRowValues>(upsertLeadSql);
    this.#upsertTransition = db.prepare(
      `INSERT INTO stage_transitions (subject, to_stage, from_stage, at, skipped, rule, event_id, config_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (subject, to_stage) DO UPDATE SET from_stage = excluded.from_stage, at = excluded.at, skipped = excluded.skipped,
         rule = excluded.rule, event_id = excluded.event_id, config_version = excluded.config_version`,
    );
    this.#deleteTransition = db.prepare('DELETE FROM stage_transitions WHERE subject = ? AND to_stage = ?');
    this.#deleteTransitions = db.prepare('DELETE FROM stage_transitions WHERE subject = ?');
    this.#addCounter = db.prepare(
      `INSERT INTO conversion_days (day, business_unit, source, from_stage, to_stage, leads, skipped, velocity_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (day, business_unit, source, from_stage, to_stage)
       DO UPDATE SET leads = leads + excluded.leads, skipped = skipped + excluded.skipped, velocity_ms = velocity_ms + excluded.velocity_ms
       RETURNING leads, skipped, velocity_ms`,
    );
    this.#deleteCounter = db.prepare('DELETE FROM conversion_days WHERE day = ? AND business_unit = ? AND source = ? AND from_stage = ? AND to_stage = ?');
    // first link wins: a stored link is never replaced
    this.#insertLink = db.prepare('INSERT INTO identity_links (anonymous_id, lead_id, event_id) VALUES (?, ?, ?) ON CONFLICT (anonymous_id) DO NOTHING');
    this.#markChanged = db.prepare('INSERT INTO subject_changes (subject, position) VALUES (?, ?) ON CONFLICT (subject) DO UPDATE SET position = excluded.position');
    this.#markDayChanged = db.prepare('INSERT INTO conversion_day_changes (day, position) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET position = excluded.position');
    this.#insertChange = db.prepare('INSERT INTO derived_changes (type, subject, payload) VALUES (?, ?, ?)');
    this.#trimChanges = db.prepare('DELETE FROM derived_changes WHERE seq <= ?');
    this.#transaction = db.transaction((work: () => unknown) => work());
  }

  /** Runs `work` in one IMMEDIATE transaction after moving the checkpoint from `from` to `to` (compare-and-set). */
  flush<T>(from: number, to: number, work: () => T): T {
    return this.#transaction.immediate(() => {
      if (this.#moveCheckpoint.run(to, from).changes !== 1) throw new CheckpointMovedError(from);
      this.#flushingTo = to;
      this.#daysMarked.clear();
      return work();
    }) as T;
  }

  writeSubject(row: LeadRowValues, upserts: readonly StageTransition[], removals: readonly StageTransition[]): void {
    this.#upsertLead.run(...row);
    const subject = row[0] as string;
    this.#markChanged.run(subject, this.#flushingTo);
    for (const t of removals) this.#deleteTransition.run(subject, t.to);
    for (const t of upserts) this.#upsertTransition.run(...transitionRow(subject, t));
  }

  /** An anonymous history merged into a lead: its row stays (naming the lead), its transitions go. */
  writeMergedSubject(row: LeadRowValues): void {
    this.#upsertLead.run(...row);
    this.#markChanged.run(row[0] as string, this.#flushingTo);
    this.#deleteTransitions.run(row[0] as string);
  }

  addCounter(c: CounterDelta): void {
    if (!this.#daysMarked.has(c.day)) {
      this.#markDayChanged.run(c.day, this.#flushingTo);
      this.#daysMarked.add(c.day);
    }
    const after = this.#addCounter.get(c.day, c.businessUnit, c.source, c.from, c.to, c.leads, c.skipped, c.velocityMs)!;
    // a counter nobody contributes to is no row at all, so equal models hash equal
    if (after.leads === 0 && after.skipped === 0 && after.velocity_ms === 0) this.#deleteCounter.run(c.day, c.businessUnit, c.source, c.from, c.to);
  }

  addLink(anonymousId: string, leadId: string, eventId: string): void {
    this.#insertLink.run(anonymousId, leadId, eventId);
  }

  /** Appends changes to the feed and trims it; returns the last one's sequence number. */
  addChanges(changes: readonly { readonly type: string; readonly subject: string; readonly payload: string }[]): number | undefined {
    let lastSeq: number | undefined;
    for (const c of changes) lastSeq = Number(this.#insertChange.run(c.type, c.subject, c.payload).lastInsertRowid);
    if (lastSeq !== undefined) this.#trimChanges.run(lastSeq - this.#changeRetention);
    return lastSeq;
  }
}
