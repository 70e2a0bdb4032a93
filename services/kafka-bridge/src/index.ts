export { startBridge } from './bridge.js';
export type { Bridge, BridgeOptions } from './bridge.js';
export { createBridgeMetrics } from './metrics.js';
export type { BridgeMetrics } from './metrics.js';
export { decodeTouchpoint } from './steps.js';
export type { DecodeResult } from './steps.js';
export { BridgeConfigError, runBridgeProcess } from './process.js';
