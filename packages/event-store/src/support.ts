// `@sluice/event-store/support`: the building blocks every adapter shares (the
// append planner that applies the port's idempotency and revision rules, the
// subscription loops, the in-process append notifier), for the adapters that
// live in their own packages (`@sluice/event-store-postgres`,
// `@sluice/event-store-eventstoredb`). Not for callers of the port.
export { AppendPlanner } from './append-planner.js';
export type { PlannedRow, StoredEvent } from './append-planner.js';
export { AppendNotifier } from './append-notifier.js';
export { PollingSubscription } from './polling-subscription.js';
export { LiveSubscriptions, LoopingSubscription } from './subscription-support.js';
