// The projector: read models of the log (current lead state, stage
// transitions, the anonymous -> lead map, live conversion counters) in their
// own SQLite file; the live runner, rebuild, what-if, content hash and queries.
export { type ProjectionState, type ProjectionStore, ProjectionConfigMismatchError, openProjectionStore } from './store/projection-store.js';
export { type ProjectionLag, type Projector, type ProjectorOptions, type ProjectorProgress, lagBehindLog, startProjector } from './projector.js';
export { type ParkedRow, parkedInProjections, parkedRecordOf } from './store/parked.js';
export { CheckpointMovedError } from './engine/writer.js';
export { type RebuildOptions, type RebuildResult, type ReplayOptions, type ReplayProgress, type ReplayResult, rebuild } from './rebuild.js';
export { type RuleSetOutcome, type StageDifference, type StageOutcome, type WhatIfOptions, type WhatIfResult, whatIf } from './what-if.js';
export { type WhatIfInWorkerOptions, WhatIfOutOfMemoryError, type WhatIfStoreDescription, runWhatIfInWorker } from './what-if-worker.js';
export { contentHash } from './hash.js';
export {
  type ChangeFeedItem,
  type ChangeFeedSource,
  type ChangesLost,
  type DerivedChange,
  type LeadHot,
  type StageChanged,
  type StoredChange,
  changeFeedSource,
  followingOf,
  lastChangeSeq,
  parseChange,
  readChanges,
} from './changes.js';
export { type MetricSample, projectionMetrics } from './metrics.js';
export {
  InvalidCursorError,
  type LeadFilter,
  type LeadPage,
  type LeadRow,
  type LeadSource,
  type LeadView,
  type TransitionRow,
  type TransitionView,
  checkLeadPageLimit,
  decodeLeadCursor,
  encodeLeadCursor,
  getLead,
  leadAsOf,
  leadTransitions,
  leadViewOf,
  listLeads,
  transitionViewsOf,
} from './queries/leads.js';
export { LEAD_COLUMNS } from './engine/rows.js';
export {
  type ConversionCounterRow,
  type LiveConversion,
  type LiveConversionQuery,
  type LiveConversionRow,
  checkLiveConversion,
  conversionGrouping,
  liveConversion,
  liveConversionOf,
} from './queries/conversion.js';
export { pipelineCounts } from './queries/pipeline.js';
export type { PipelineFilter, PipelineUnit } from './queries/pipeline.js';
export { type ChangedSubjectRow, type SqliteStageStateSource, stageStatePageOf, stageStateSource } from './queries/stage-state.js';
export {
  type MeasureOptions,
  type MeasuredFunnel,
  type MeasuredStep,
  type StepRow,
  heldOf,
  heldPipeline,
  lookbackConversionQuery,
  measureFunnel,
  sumSteps,
} from './queries/measured.js';
export {
  type BreachingLead,
  type ConversionBucket,
  type SlaGroupRow,
  type SlaLeadRow,
  type SlaReport,
  type SlaReportOptions,
  SlaNotConfiguredError,
  slaReport,
  slaReportOf,
  slaTargetsOf,
} from './queries/sla-report.js';
export { type ReadModels, stageFeedOf } from './read-models/port.js';
export { type SqliteReadModelsOptions, sqliteReadModels } from './read-models/sqlite.js';
export {
  type ConversionDayRow,
  type IdentityLinkRow,
  type ReadModelDelta,
  type ReplicaMark,
  type StoredChangeRow,
  readReadModelDelta,
} from './read-models/replication.js';
