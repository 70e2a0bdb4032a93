import type { Profile, SideStateKind, StageStateHead, StageStatePage, StageStateRequest, StageStateSource, SubjectStageState } from '@sluice/domain';
import type { ProjectionStore } from '../store/projection-store.js';
import { subjectOfStream } from '../engine/rows.js';
import type { TransitionRow } from './leads.js';

/**
 * The stage-level state of subjects that changed, for a follower that copies
 * it elsewhere (`runStageTableSink` in @sluice/analytics keeps ClickHouse's
 * stage_transitions and lead_profile equal to it), as @sluice/domain's
 * `StageStateSource` contract: this package does not import analytics and
 * analytics does not import this one; the CLI composes the two.
 *
 * A subject is marked with the checkpoint of the flush that last wrote it, in
 * that flush's transaction, so "changed after P" misses nothing committed.
 */

/** The contract, answered synchronously (SQLite reads block; callers that know it may skip the await). */
export interface SqliteStageStateSource extends StageStateSource {
  head(): StageStateHead;
  read(request: StageStateRequest): StageStatePage;
}

/** A subject the stage feed names: its `leads` row and the checkpoint it was last written at, as any adapter reads it. */
export interface ChangedSubjectRow {
  changed_at: number;
  subject: string;
  config_version: string;
  business_unit: string;
  source: string | null;
  channel: string | null;
  campaign: string | null;
  profile: string;
  owner: string | null;
  stage: string | null;
  account_id: string | null;
  side_state: SideStateKind | null;
  side_reason: string | null;
  side_rule: string | null;
  side_since: number | null;
}

const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/**
 * Reads subjects that changed between two checkpoints, a page at a time,
 * each page in one read transaction (a snapshot: its subjects and its
 * `position` agree even while the projector flushes on the same connection
 * or in another process).
 */
export function stageStateSource(projections: ProjectionStore): SqliteStageStateSource {
  const db = projections.db;
  const changed = db.prepare<{ after: number; until: number; cursorPosition: number; cursorSubject: string; limit: number }, ChangedSubjectRow>(
    `SELECT c.position AS changed_at, l.subject, l.config_version, l.business_unit, l.source, l.channel, l.campaign, l.profile, l.owner, l.stage,
            l.account_id, l.side_state, l.side_reason, l.side_rule, l.side_since
     FROM subject_changes c JOIN leads l ON l.subject = c.subject
     WHERE c.position > @after AND c.position <= @until AND (c.position, c.subject) > (@cursorPosition, @cursorSubject)
     ORDER BY c.position, c.subject
     LIMIT @limit`,
  );
  const transitionsOf = db.prepare<[string], TransitionRow>('SELECT from_stage, to_stage, at, skipped, rule, event_id, config_version FROM stage_transitions WHERE subject = ?');
  const page = db.transaction((request: StageStateRequest): StageStatePage => {
    const { position, build } = projections.state();
    const rows = changed.all({
      after: request.after,
      until: request.until,
      cursorPosition: request.cursor?.position ?? -1,
      cursorSubject: request.cursor?.subject ?? '',
      limit: request.limit,
    });
    return stageStatePageOf({ build, position }, request, rows, (subject) => transitionsOf.all(subject));
  });
  return {
    head() {
      const state = projections.state();
      return { build: state.build, configVersion: state.config?.version, position: state.position };
    },
    read: (request) => page(request),
  };
}

/** A page of the stage feed from the changed subjects' rows (ordered by checkpoint and subject) and their transitions, whichever adapter read them. */
export function stageStatePageOf(
  head: { readonly build: string; readonly position: number },
  request: StageStateRequest,
  rows: readonly ChangedSubjectRow[],
  transitionsOf: (subject: string) => readonly TransitionRow[],
): StageStatePage {
  const subjects = rows.map((r): SubjectStageState => {
    const ref = subjectOfStream(r.subject);
    const leadId = ref.kind === 'lead' ? ref.id : undefined;
    const anonymousId = ref.kind === 'anonymous' ? ref.id : undefined;
    return {
      leadId,
      anonymousId,
      configVersion: r.config_version,
      businessUnit: r.business_unit,
      attribution: { source: orUndefined(r.source), channel: orUndefined(r.channel), campaign: orUndefined(r.campaign) },
      profile: JSON.parse(r.profile) as Profile,
      owner: orUndefined(r.owner),
      stage: orUndefined(r.stage),
      accountId: orUndefined(r.account_id),
      sideState: r.side_state === null ? undefined : { state: r.side_state, reason: r.side_reason ?? '', rule: orUndefined(r.side_rule), since: r.side_since ?? 0 },
      transitions: transitionsOf(r.subject).map((t) => ({
        leadId,
        anonymousId,
        from: t.from_stage,
        to: t.to_stage,
        at: t.at,
        skipped: t.skipped === 1,
        rule: t.rule,
        eventId: t.event_id,
        configVersion: t.config_version,
      })),
    };
  });
  const last = rows.at(-1);
  return { ...head, subjects, next: rows.length < request.limit || last === undefined ? undefined : { position: last.changed_at, subject: last.subject } };
}
