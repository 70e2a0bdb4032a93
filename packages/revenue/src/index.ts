export * from './opportunity.js';
export * from './pipeline.js';
export * from './waterfall.js';
export * from './answers.js';
export * from './opportunity-analytics.js';
export * from './forecast.js';
export * from './forecast-answer.js';
