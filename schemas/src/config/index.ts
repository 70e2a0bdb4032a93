export * from './matchers.js';
export * from './conditions.js';
export * from './stage-models.js';
export * from './opportunities.js';
export * from './scoring.js';
export * from './lifecycle.js';
export * from './server.js';
export * from './config.js';
