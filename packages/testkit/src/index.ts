export * from './demo/index.js';
export * from './services/kafka.js';
export * from './services/postgres.js';
