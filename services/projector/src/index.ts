export { type ProjectorHealth, type ProjectorProcessOptions, ProjectorConfigError, runProjectorProcess } from './process.js';
export { type HeldLease, type LeaseTable, holdLease, openLeaseTable } from './leases.js';
export { type PartitionSlot, PartitionSpecError, leadPartition, leaseKey, ownsLeadIn, parsePartitionSlot } from './partitions.js';
