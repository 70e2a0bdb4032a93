export * from './demo/index.js';
