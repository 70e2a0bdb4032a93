export * from './demo/index.js';
export * from './services/kafka.js';
