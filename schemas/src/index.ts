export * from './events/primitives.js';
export * from './events/currencies.js';
export * from './events/extensions.js';
export * from './events/touchpoints.js';
export * from './events/envelope.js';
export * from './events/system.js';
export * from './config/index.js';
export * from './reports.js';
