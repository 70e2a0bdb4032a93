// `@sluice/read-models-postgres`: the read models in PostgreSQL for the
// distributed mode: the replicator `sluice project` runs beside the projector
// (it copies the projector's SQLite read models), and the ReadModels adapter
// API replicas read through. pg is a peer dependency, so the embedded mode
// never loads it.
export { type PostgresReadModels, type PostgresReadModelsOptions, openPostgresReadModels } from './read-models.js';
export { REPLICATOR_NAME, type ReadModelReplicatorOptions, ReadModelsPartitionError, startReadModelReplicator } from './replicator.js';
