// The reference implementations, each beside the query it is the semantics of:
// plain, pure TypeScript that the query's SQL is property-tested against. Pure,
// so a browser bundle or a test elsewhere may import them (@sluice/analytics/reference).
export * from './cohorts/reference.js';
export * from './close-rates/reference.js';
export * from './drivers/reference.js';
export * from './funnel/reference.js';
export * from './time-to-convert/reference.js';
