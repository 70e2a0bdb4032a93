export * from './errors.js';
export * from './errors-file.js';
export * from './import.js';
export * from './map.js';
export * from './row-events.js';
export * from './rows.js';
