import type { ParkedRow } from '../store/parked.js';
import type { ProjectionState, ProjectionStore } from '../store/projection-store.js';
import type { ConversionCounts } from '../queries/conversion.js';
import type { LeadRow, TransitionRow } from '../queries/leads.js';

/**
 * What a copy of the read models elsewhere (@sluice/read-models-postgres)
 * reads to catch up: everything that changed after the checkpoint it holds,
 * read from one snapshot of this file, so the copy can write it with its
 * checkpoint in one transaction and answer exactly what this file answers at
 * that checkpoint.
 *
 * How "what changed" is known: every flush marks the subjects it wrote
 * (`subject_changes`) and the cohort days whose counters it changed
 * (`conversion_day_changes`) with the checkpoint it moves to; parked events
 * carry their position; the change feed is numbered. So a delta is, for
 * marks in (copied checkpoint, checkpoint now]: each changed subject's whole
 * row and all its transitions, the identity links it holds, each changed
 * day's counters (all of them: the copy replaces the day), the parked events
 * and the changes numbered after the copy's. A copy of another build (a
 * rebuild starts a new one) or of none gets everything.
 */

/** Where a copy stands: the build and checkpoint it copied, the last change number it copied, and the rules' fingerprint it holds. */
export interface ReplicaMark {
  readonly build: string;
  readonly position: number;
  readonly changeSeq: number;
  readonly fingerprint: string | undefined;
}

/** A cohort day's conversion counter (`conversion_days`). */
export interface ConversionDayRow extends ConversionCounts {
  day: string;
}

export interface IdentityLinkRow {
  anonymous_id: string;
  lead_id: string;
  event_id: string;
}

/** A derived change as stored (`derived_changes`). */
export interface StoredChangeRow {
  seq: number;
  type: string;
  subject: string;
  payload: string;
}

export interface ReadModelDelta {
  /** the copy's mark this delta applies to (its compare-and-set) */
  readonly from: ReplicaMark;
  /** the mark the copy holds once the delta is written */
  readonly to: ReplicaMark;
  /** the rules the read models are built under, as the file holds them */
  readonly config: ProjectionState['config'];
  /** the copy holds another build or none: it empties itself first and the delta is everything */
  readonly replace: boolean;
  /** each changed subject's whole row, the checkpoint it was last written at, and all its transitions (the copy replaces the subject's) */
  readonly subjects: readonly { readonly row: LeadRow; readonly changedAt: number; readonly transitions: readonly TransitionRow[] }[];
  /** the anonymous -> lead links held by the changed subjects (links are never replaced) */
  readonly links: readonly IdentityLinkRow[];
  /** the cohort days whose counters changed: the copy replaces each day's counters with `counters` */
  readonly days: readonly string[];
  readonly counters: readonly ConversionDayRow[];
  readonly parked: readonly ParkedRow[];
  /** the changes numbered after the copy's last, oldest first */
  readonly changes: readonly StoredChangeRow[];
  /** the oldest change the feed still holds (`to.changeSeq + 1` when none): the copy drops the older ones, as the trim did */
  readonly oldestHeldSeq: number;
}

type LeadRowWithMark = LeadRow & { changed_at: number };

/** What changed in the read models after `since`, from one snapshot; undefined when the copy is as they are. */
export function readReadModelDelta(projections: ProjectionStore, since: ReplicaMark): ReadModelDelta | undefined {
  const db = projections.db;
  const read = db.transaction((): ReadModelDelta | undefined => {
    const state = projections.state();
    const lastSeq = db.prepare<[], number | undefined>("SELECT seq FROM sqlite_sequence WHERE name = 'derived_changes'").pluck().get() ?? 0;
    const to: ReplicaMark = { build: state.build, position: state.position, changeSeq: lastSeq, fingerprint: state.config?.fingerprint };
    const replace = since.build !== state.build;
    if (!replace && since.position === to.position && since.changeSeq === to.changeSeq && since.fingerprint === to.fingerprint) return undefined;
    const after = replace ? -1 : since.position;

    const leadRows = db
      .prepare<[number], LeadRowWithMark>('SELECT c.position AS changed_at, l.* FROM subject_changes c JOIN leads l ON l.subject = c.subject WHERE c.position > ? ORDER BY c.position, c.subject')
      .all(after);
    const transitionsOf = db.prepare<[string], TransitionRow & { subject: string }>(
      'SELECT subject, from_stage, to_stage, at, skipped, rule, event_id, config_version FROM stage_transitions WHERE subject = ?',
    );
    const allTransitions = new Map<string, TransitionRow[]>();
    if (replace) {
      for (const t of db.prepare<[], TransitionRow & { subject: string }>('SELECT subject, from_stage, to_stage, at, skipped, rule, event_id, config_version FROM stage_transitions').iterate()) {
        const { subject, ...row } = t;
        allTransitions.set(subject, [...(allTransitions.get(subject) ?? []), row]);
      }
    }
    const subjects = leadRows.map(({ changed_at, ...row }) => ({
      row: row as LeadRow,
      changedAt: changed_at,
      transitions: replace ? (allTransitions.get(row.subject as string) ?? []) : transitionsOf.all(row.subject as string).map(({ subject: _, ...t }) => t),
    }));

    const linksOf = {
      lead: db.prepare<[string], IdentityLinkRow>('SELECT anonymous_id, lead_id, event_id FROM identity_links WHERE lead_id = ?'),
      anonymous: db.prepare<[string], IdentityLinkRow>('SELECT anonymous_id, lead_id, event_id FROM identity_links WHERE anonymous_id = ?'),
    };
    const links = replace
      ? db.prepare<[], IdentityLinkRow>('SELECT anonymous_id, lead_id, event_id FROM identity_links').all()
      : leadRows.flatMap((r) => linksOf[r.kind === 'lead' ? 'lead' : 'anonymous'].all(r.id as string));

    const days = db.prepare<[number], string>('SELECT day FROM conversion_day_changes WHERE position > ? ORDER BY day').pluck().all(after);
    const countersOf = db.prepare<[string], ConversionDayRow>(
      'SELECT day, business_unit, source, from_stage, to_stage, leads, skipped, velocity_ms FROM conversion_days WHERE day = ?',
    );
    const counters = replace
      ? db.prepare<[], ConversionDayRow>('SELECT day, business_unit, source, from_stage, to_stage, leads, skipped, velocity_ms FROM conversion_days').all()
      : days.flatMap((day) => countersOf.all(day));

    const parked = db
      .prepare<[number, number], ParkedRow>('SELECT follower, position, event_id, type, reason, parked_at FROM parked_events WHERE position > ? AND position <= ? ORDER BY position')
      .all(after, state.position);
    const changes = db
      .prepare<[number], StoredChangeRow>('SELECT seq, type, subject, payload FROM derived_changes WHERE seq > ? ORDER BY seq')
      .all(replace ? 0 : since.changeSeq);
    const oldestHeldSeq = db.prepare<[], number | null>('SELECT MIN(seq) FROM derived_changes').pluck().get() ?? lastSeq + 1;
    return { from: since, to, config: state.config, replace, subjects, links, days, counters, parked, changes, oldestHeldSeq };
  });
  return read();
}
