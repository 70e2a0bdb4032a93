// @sluice/analytics: ClickHouse (embedded chDB or a server) schema, the
// touchpoint sink from the event store, and funnel queries.
export { createAnalyticsClient, ANALYTICS_TABLES, DEFAULT_QUERY_TIMEOUT_SECONDS, MAX_QUERY_TIMEOUT_SECONDS, QueryTimeoutError } from './client.js';
export type { AnalyticsBackend, AnalyticsClient, AnalyticsClientOptions, AnalyticsTable, QueryParams } from './client.js';
export { migrate, appliedSchemaVersions, LATEST_SCHEMA_VERSION } from './migrations.js';
export { applyTouchpointBatch, readSinkCheckpoint, runTouchpointSink, syncTouchpoints, touchpointRow, DEFAULT_SINK_NAME } from './sink.js';
export type { TouchpointSinkOptions } from './sink.js';
export { clickHouseWaterfallSource, openOpportunitiesAsOf, opportunityGroupsAsOf, waterfallMovements } from './opportunity-log.js';
export { clickHouseForecastSource, opportunityJourneysBefore } from './opportunity-journeys.js';
export { parkedInClickHouse } from './parked.js';
export {
  FUNNEL_LIMITS,
  FunnelDefinitionSchema,
  FunnelLeadsQuerySchema,
  FunnelQueryOptionsSchema,
  funnelSpecOf,
  parseFunnelDefinition,
} from './funnel-definition.js';
export type { FieldIssue, FunnelDefinition, FunnelDefinitionInput, FunnelLeadsQuery, FunnelQueryOptions } from './funnel-definition.js';
export { listFunnelLeads, runFunnel } from './funnel.js';
export type { FunnelLead, FunnelLeadPage, FunnelResult, FunnelStepResult } from './funnel.js';
export { applyLeadProfiles, applyStageTransitionChanges, leadProfileOf, replaceActorTransitions } from './stage-tables.js';
export type { LeadProfileRow, StageTransitionChanges } from './stage-tables.js';
export { applyStageStates, runStageTableSink, stageSinkName, syncStageTables } from './stage-sink.js';
export type { StageSinkItem, StageSinkOptions, StageSyncResult } from './stage-sink.js';
export {
  ActivityCloseRatesQuerySchema,
  STAGE_QUERY_LIMITS,
  StageConversionQuerySchema,
  closeRateOptionsOf,
  closeRateSpecOf,
  pairsOf,
  parseActivityCloseRatesQuery,
  parseStageConversionQuery,
  parseWith,
  stageConversionSpecOf,
} from './stage-queries.js';
export type { ActivityCloseRatesQuery, ActivityCloseRatesQueryInput, Parsed, StageConversionQuery, StageConversionQueryInput } from './stage-queries.js';
export { runStageConversion } from './stage-conversion.js';
export type { StageConversionResult } from './stage-conversion.js';
export { activityCloseRateCounts, runActivityCloseRates } from './close-rates.js';
export type { ActivityCloseRatesResult } from './close-rates.js';
export {
  ConversionDriversQuerySchema,
  DEFAULT_DRIVER_PROFILE_KEYS,
  conversionDriverCounts,
  driverSpecOf,
  runConversionDrivers,
} from './conversion-drivers.js';
export type { ConversionDriversQuery, ConversionDriversQueryInput, ConversionDriversResult } from './conversion-drivers.js';
export { withRuleDefaults } from './rule-defaults.js';
export type { StageQueryKind } from './rule-defaults.js';
export {
  TIME_TO_CONVERT_LIMITS,
  TimeToConvertQuerySchema,
  isStageTimeToConvertQuery,
  parseTimeToConvertQuery,
  runTimeToConvert,
  timeToConvertSpecOf,
  touchpointTimeToConvertSpecOf,
} from './time-to-convert.js';
export type { StageTimeToConvertQuery, TimeToConvertQuery, TimeToConvertQueryInput, TimeToConvertResult, TouchpointTimeToConvertQuery } from './time-to-convert.js';
export { PURCHASE_SEGMENT_KEYS, RETENTION_LIMITS, RetentionCohortsQuerySchema, parseRetentionCohortsQuery, retentionSpecOf, runRetentionCohorts } from './retention-cohorts.js';
export type { RetentionCohortsQuery, RetentionCohortsQueryInput, RetentionCohortsResult } from './retention-cohorts.js';
export { AmbiguousCurrencyError, DealSizeQuerySchema, measureDealSize, measurePlanDealSize, parseDealSizeQuery } from './deal-size.js';
export type { CurrencyDeals, DealSizeQuery, DealSizeQueryInput, DealSizeResult } from './deal-size.js';
export type { CostReportQuery, CostReportQueryInput, CostReportResult } from './cost-report.js';
export { CostReportQuerySchema, costReportTallies, parseCostReportQuery, runCostReport } from './cost-report.js';
export { QUERIES, READ_MODEL_QUERIES } from './queries/index.js';
export type { Queries, ReadModelQueries } from './queries/index.js';
export { FreshnessSchema, withAsOfDefault } from './queries/declaration.js';
export type { AnyQuery, AnyReadModelQuery, QueryDeclaration, QueryOf, QueryReads, ReadModelQueryDeclaration, ReadModelSource, ResultOf, StageQueryDeclaration } from './queries/declaration.js';
