export { reportToConsole, startFollower } from './follower.js';
export type { Follower, FollowerFailure, FollowerOptions, FollowerSource, FollowerState, FollowerStatus, FollowerTarget, ParkedItem, ParkedRecord } from './follower.js';
export { ItemFailed, TransientFailure, isTransient, messageOf } from './failures.js';
export { type FollowerGauge, followerGauges, prometheusText } from './metrics.js';
