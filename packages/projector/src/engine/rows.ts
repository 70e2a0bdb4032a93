import type { LeadSnapshot, StageTransition } from '@sluice/domain';
import type { Contribution } from './contribution.js';
import { NO_CONTRIBUTION } from './contribution.js';

/** Columns of `leads`, in the order lead rows are bound. */
export const LEAD_COLUMNS = [
  'subject',
  'kind',
  'id',
  'merged_into',
  'config_version',
  'stage',
  'stage_entered_at',
  'stages',
  'is_customer',
  'side_state',
  'side_reason',
  'side_rule',
  'side_since',
  'fit',
  'engagement',
  'total',
  'grade',
  'quadrant',
  'next_action',
  'owner',
  'business_unit',
  'account_id',
  'source',
  'channel',
  'campaign',
  'profile',
  'first_touch_at',
  'last_touch_at',
  'last_sales_touch_at',
  'touchpoints',
  'sla_started_at',
  'sla_first_touch_due_at',
  'sla_first_touch_at',
  'sla_first_touch_minutes',
  'sla_first_touch_status',
  'sla_attempts',
  'sla_attempts_required',
  'sla_attempts_window_ends_at',
  'sla_attempts_status',
  'sla_breached',
] as const;

type SqlValue = string | number | null;
export type LeadRowValues = SqlValue[];

export interface SubjectRef {
  /** the stream id: `lead-<id>` or `anon-<id>` */
  readonly key: string;
  readonly kind: 'lead' | 'anonymous';
  readonly id: string;
}

const LEAD_PREFIX = 'lead-';
const ANONYMOUS_PREFIX = 'anon-';

/** The subject a stream belongs to (identity.ts names streams `lead-<id>` / `anon-<id>`). */
export function subjectOfStream(streamId: string): SubjectRef {
  if (streamId.startsWith(LEAD_PREFIX)) return { key: streamId, kind: 'lead', id: streamId.slice(LEAD_PREFIX.length) };
  if (streamId.startsWith(ANONYMOUS_PREFIX)) return { key: streamId, kind: 'anonymous', id: streamId.slice(ANONYMOUS_PREFIX.length) };
  throw new Error(`stream ${streamId} is neither a lead nor an anonymous stream`);
}

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** The stored stage entries (what getLead shows and a reload turns back into a contribution). */
export interface StoredStageEntry {
  readonly stage: string;
  readonly at: number;
  readonly skipped: boolean;
  readonly rule: string;
}

/** The lead row of a subject's event-time snapshot. */
export function leadRow(subject: SubjectRef, snap: LeadSnapshot): LeadRowValues {
  const sla = snap.sla;
  const stages: StoredStageEntry[] = snap.stages.map((s) => ({ stage: s.stage, at: s.at, skipped: s.skipped, rule: s.rule }));
  const breached = sla === undefined ? null : sla.firstTouch.status === 'breached' || sla.attempts?.status === 'breached' ? 1 : 0;
  return [
    subject.key,
    subject.kind,
    subject.id,
    orNull(snap.mergedInto),
    snap.configVersion,
    orNull(snap.stage),
    orNull(snap.stageEnteredAt),
    JSON.stringify(stages),
    snap.isCustomer ? 1 : 0,
    orNull(snap.sideState?.state),
    orNull(snap.sideState?.reason),
    orNull(snap.sideState?.rule),
    orNull(snap.sideState?.since),
    snap.scores.fit,
    snap.scores.engagement,
    snap.scores.total,
    snap.grade,
    snap.quadrant,
    snap.nextAction,
    orNull(snap.owner),
    snap.businessUnit,
    orNull(snap.accountId),
    orNull(snap.attribution.source),
    orNull(snap.attribution.channel),
    orNull(snap.attribution.campaign),
    JSON.stringify(snap.profile),
    orNull(snap.firstTouchAt),
    // 0 for a subject without touchpoints (only an anonymous history merged at once has none), so listing can order on it
    snap.lastTouchAt ?? 0,
    orNull(snap.lastSalesTouchAt),
    snap.touchpoints,
    orNull(sla?.startedAt),
    orNull(sla?.firstTouch.dueAt),
    orNull(sla?.firstTouch.at),
    orNull(sla?.firstTouch.minutes),
    orNull(sla?.firstTouch.status),
    orNull(sla?.attempts?.count),
    orNull(sla?.attempts?.required),
    orNull(sla?.attempts?.windowEndsAt),
    orNull(sla?.attempts?.status),
    breached,
  ];
}

/** What the live conversion counts for a snapshot: nothing for an anonymous history a lead owns. */
export function contributionOf(snap: LeadSnapshot): Contribution {
  if (snap.mergedInto !== undefined) return NO_CONTRIBUTION;
  return { businessUnit: snap.businessUnit, source: snap.attribution.source ?? '', entries: snap.stages.map((s) => ({ stage: s.stage, at: s.at, skipped: s.skipped })) };
}

/** The same, from a stored row (a subject loaded back after a restart or an eviction). */
export function contributionOfRow(row: { merged_into: string | null; business_unit: string; source: string | null; stages: string }): Contribution {
  if (row.merged_into !== null) return NO_CONTRIBUTION;
  const stages = JSON.parse(row.stages) as StoredStageEntry[];
  return { businessUnit: row.business_unit, source: row.source ?? '', entries: stages.map((s) => ({ stage: s.stage, at: s.at, skipped: s.skipped })) };
}

/** Bound values of a `stage_transitions` row. */
export function transitionRow(subject: string, t: StageTransition): SqlValue[] {
  return [subject, t.to, t.from, t.at, t.skipped ? 1 : 0, t.rule, t.eventId, t.configVersion];
}
