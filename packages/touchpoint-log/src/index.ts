export * from './append.js';
export * from './read.js';
export * from './validate.js';
