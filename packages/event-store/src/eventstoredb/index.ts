// `@sluice/event-store/eventstoredb`: the EventStoreDB adapter, behind its own
// subpath so that importing the port (`@sluice/event-store`) never loads the
// gRPC client. Every @eventstore/db-client call lives in this folder, so moving
// to its successor (@kurrent/kurrentdb-client, which renames the API) touches
// nothing else.
export { EventIdInFlightError, openEventStoreDbEventStore } from './eventstoredb-event-store.js';
export type { EventStoreDbEventStoreOptions } from './eventstoredb-event-store.js';
export type { ReconnectPolicy } from './subscription.js';
