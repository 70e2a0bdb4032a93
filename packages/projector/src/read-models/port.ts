import type { StageStateHead, StageStatePage, StageStateRequest, StageStateSource } from '@sluice/domain';
import type { ParkedRecord } from '@sluice/follower';
import type { RuleConfig } from '@sluice/schemas';
import type { ChangeFeedItem } from '../changes.js';
import type { LiveConversion, LiveConversionQuery } from '../queries/conversion.js';
import type { LeadFilter, LeadPage, LeadView, TransitionView } from '../queries/leads.js';
import type { MeasureOptions, MeasuredFunnel } from '../queries/measured.js';
import type { PipelineUnit } from '../queries/pipeline.js';
import type { SlaReport, SlaReportOptions } from '../queries/sla-report.js';

/**
 * What readers ask of the read models, whatever holds them: the API and the
 * CLI read through this port and never through a database handle, so an API
 * replica can read read models another process projects (into PostgreSQL as
 * well as a local SQLite file). Every method is async and takes and returns
 * plain data. `readModelsContract` (contract.ts) is what an adapter must pass.
 */
export interface ReadModels {
  /** the build, the rules version and the checkpoint the read models stand at (position 0 before any event) */
  head(): Promise<StageStateHead>;
  /**
   * One lead, undefined for an unknown one. Without `asOf`: as of its own last
   * event. With `asOf` (epoch ms or ISO): folded again from the log and
   * evaluated then, with its score breakdown (needs the log and the rules the
   * adapter was opened with).
   */
  lead(leadId: string, asOf?: number | string): Promise<LeadView | undefined>;
  /** a lead's stage transitions, in the stage model's order */
  leadTransitions(leadId: string): Promise<TransitionView[]>;
  /** leads (or unclaimed visitors), most recently touched first, a page at a time; InvalidCursorError for a cursor it did not hand out */
  listLeads(filter?: LeadFilter, cursor?: string, limit?: number): Promise<LeadPage>;
  liveConversion(query: LiveConversionQuery): Promise<LiveConversion>;
  /** SlaNotConfiguredError when `rules` have no SLA section */
  slaReport(rules: RuleConfig, options: SlaReportOptions): Promise<SlaReport>;
  /** the planner's measured funnel: the live counters' steps over the lookback and the leads held now */
  measureFunnel(options: MeasureOptions): Promise<MeasuredFunnel>;
  /** open leads (or accounts) held now in each stage before the last of `stages` */
  heldPipeline(options: Pick<MeasureOptions, 'stages' | 'businessUnit'> & { unit?: PipelineUnit }): Promise<Record<string, number>>;
  /** the stage feed: subjects whose stage-level state changed between two checkpoints, a page at a time */
  stageChanges(request: StageStateRequest): Promise<StageStatePage>;
  /** the change feed's last sequence number (0 when none was given out) */
  changeHead(): Promise<number>;
  /** up to `max` derived changes after `afterSeq`, a changes_lost first where some are gone */
  readChanges(afterSeq: number, max: number): Promise<ChangeFeedItem[]>;
  /** events the projector parked, by follower and position (only one follower's when named) */
  parked(follower?: string): Promise<ParkedRecord[]>;
}

/** The stage feed of a port, as @sluice/domain's StageStateSource (what the ClickHouse stage sink and `sluice status` read). */
export const stageFeedOf = (readModels: ReadModels): StageStateSource => ({
  head: () => readModels.head(),
  read: (request) => readModels.stageChanges(request),
});
