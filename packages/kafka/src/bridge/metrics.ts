import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The bridge's Prometheus metrics, in a registry of its own (tests run several bridges in one process). */
export function createBridgeMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sluice_bridge_' });
  return {
    registry,
    consumed: new Counter({ name: 'sluice_bridge_consumed_messages_total', help: 'Messages taken from sluice.touchpoints (redeliveries included)', registers: [registry] }),
    appended: new Counter({ name: 'sluice_bridge_appended_events_total', help: 'Events written to the event store', registers: [registry] }),
    duplicates: new Counter({
      name: 'sluice_bridge_duplicate_events_total',
      help: 'Events whose id the store already held (a redelivery or a producer retry): nothing written',
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'sluice_bridge_dead_lettered_total',
      help: 'Messages sent to sluice.touchpoints.dlq, by the step that refused them',
      labelNames: ['step'] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'sluice_bridge_batch_size',
      help: 'Messages per append (one store transaction)',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
    lag: new Gauge({ name: 'sluice_bridge_lag_messages', help: 'Messages behind the partition head when the last batch was fetched', labelNames: ['partition'] as const, registers: [registry] }),
    inFlight: new Gauge({ name: 'sluice_bridge_in_flight_events', help: 'Events being appended right now, across partitions', registers: [registry] }),
    backpressureWaits: new Counter({
      name: 'sluice_bridge_backpressure_waits_total',
      help: 'Times a partition was paused because the in-flight bound was reached',
      registers: [registry],
    }),
  };
}
export type BridgeMetrics = ReturnType<typeof createBridgeMetrics>;
