// Reference implementations: plain TypeScript answers that the ClickHouse
// queries in @sluice/analytics are property-tested against.
export * from './touchpoint.js';
export * from './segments.js';
export * from './stage-conversion.js';
export * from './cost.js';
