// `@sluice/event-store-eventstoredb`: the EventStoreDB adapter, in its own
// package with @eventstore/db-client as a peer dependency, so that the port
// (`@sluice/event-store`) never installs or loads the gRPC client. Every
// @eventstore/db-client call lives in this package, so moving to its successor
// (@kurrent/kurrentdb-client, which renames the API) touches nothing else.
export { EventIdInFlightError, openEventStoreDbEventStore } from './eventstoredb-event-store.js';
export type { EventStoreDbEventStoreOptions } from './eventstoredb-event-store.js';
export type { ReconnectPolicy } from './subscription.js';
