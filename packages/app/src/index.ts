// The application layer: opens the engine for a role and runs it, so that
// `sluice serve`, each service's main and each CLI command are thin callers,
// and the close order is written once (closer.ts).
//
// Roles:
// - embedded (`sluice serve`): the store, every follower of the log, the API (serve.ts)
// - api-replica (`sluice serve` with server.readModels on PostgreSQL): the API over the read models and
//   ClickHouse another process writes; no follower (serve.ts, replica.ts)
// - projector (`sluice project`, services/projector): the followers of the log and /healthz (projector/process.ts)
// - bridge (`sluice bridge`, services/kafka-bridge): sluice.touchpoints into the store (bridge.ts)
// - cli (one-shot commands): catch up, then answer; rebuild (one-shot.ts); status and parked items
//   (status.ts): their own entries, `@sluice/app/one-shot` and `@sluice/app/status`, so a query does not
//   load the API's server
//
// The store opener alone is `@sluice/app/stores` (what a command that only reads or writes the log loads).
export { openConfiguredEventStore, storeOpener } from './stores.js';
export { Closer } from './closer.js';
export { type EngineSettings, type LogFollowers, type ProjectorShare, openAnalytics, openKafkaProducer, startLogFollowers } from './followers.js';
export { type ServeSettings, type Serving, serve } from './serve.js';
export { BridgeConfigError, runBridgeProcess } from './bridge.js';
export { type ProjectorHealth, type ProjectorProcessOptions, ProjectorConfigError, runProjectorProcess } from './projector/process.js';
export { type HeldLease, type LeaseTable, holdLease, openLeaseTable } from './projector/leases.js';
export { type PartitionSlot, PartitionSpecError, leadPartition, leaseKey, ownsLeadIn, parsePartitionSlot } from './projector/partitions.js';
export type { ApiLimits } from '@sluice/api';
