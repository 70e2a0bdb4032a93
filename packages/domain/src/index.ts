export * from './identity.js';
export * from './reference/index.js';
