import type { LeadSnapshot, StageTransition } from './snapshot.js';

/**
 * The contract between the projector's read models and followers that copy
 * their stage-level state elsewhere (ClickHouse's stage_transitions and
 * lead_profile): `stageStateSource` in @sluice/projector implements it,
 * `runStageTableSink` in @sluice/analytics consumes it. It lives here, with
 * the types it is made of, so neither package imports the other.
 *
 * Positions are the projector's checkpoints and compare only within one
 * `build` of the read models (a rebuild starts a new one).
 */

/** What a lead_profile row is made of: a lead snapshot, or a stored read model of one (its side state as of the lead's last event). */
export type LeadProfileSource = Pick<LeadSnapshot, 'leadId' | 'anonymousId' | 'configVersion' | 'businessUnit' | 'attribution' | 'profile' | 'owner' | 'stage' | 'accountId' | 'sideState'>;

/** A subject as the read models hold it now: its profile facts and every transition it holds (none for a merged anonymous history). */
export interface SubjectStageState extends LeadProfileSource {
  readonly transitions: readonly StageTransition[];
}

export interface StageStateHead {
  /** names this build of the read models */
  readonly build: string;
  /** the rules they were built under; undefined before the first build */
  readonly configVersion: string | undefined;
  /** the committed checkpoint */
  readonly position: number;
}

/** Where a page of subjects ended: the next page starts after it. */
export interface StageStateCursor {
  readonly position: number;
  readonly subject: string;
}

export interface StageStateRequest {
  /** subjects last changed after this checkpoint (0: every subject) ... */
  readonly after: number;
  /** ... and not after this one (later changes are the next pass's) */
  readonly until: number;
  readonly limit: number;
  readonly cursor: StageStateCursor | undefined;
}

export interface StageStatePage {
  readonly build: string;
  /** the checkpoint the page's state is current as of */
  readonly position: number;
  readonly subjects: readonly SubjectStageState[];
  /** where to continue; undefined when the request is exhausted */
  readonly next: StageStateCursor | undefined;
}

export interface StageStateSource {
  head(): StageStateHead | Promise<StageStateHead>;
  read(request: StageStateRequest): StageStatePage | Promise<StageStatePage>;
}
