import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { followerGauges } from '@sluice/follower';
import type { Follower } from '@sluice/follower';
import { projectionMetrics } from '@sluice/projector';
import type { Projector } from '@sluice/projector';

/** One registry per app instance, so tests and embedded servers never collide. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sluice_' });
  return {
    registry,
    ingestedEvents: new Counter({
      name: 'sluice_ingest_events_total',
      help: 'Events received by POST /v1/events, by outcome (accepted, duplicate, rejected; queued: produced to Kafka in distributed mode, unavailable: Kafka missed the produce deadline)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    ingestBatchSize: new Histogram({
      name: 'sluice_ingest_batch_size',
      help: 'Events per accepted ingest request',
      buckets: [1, 10, 100, 500, 1000, 5000, 10000],
      registers: [registry],
    }),
    appendSeconds: new Histogram({
      name: 'sluice_ingest_append_seconds',
      help: 'Time to make one ingest batch durable: appended to the event store, or acknowledged by Kafka in distributed mode',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    httpSeconds: new Histogram({
      name: 'sluice_http_request_duration_seconds',
      help: 'HTTP request latency by route and status code',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** Projection position and lag, read from the projector when scraped. */
export async function registerProjectionGauges(metrics: Metrics, projector: Projector): Promise<void> {
  const samples = () => projectionMetrics(projector);
  for (const { name, help } of await samples()) {
    new Gauge({
      name,
      help,
      registers: [metrics.registry],
      async collect() {
        const sample = (await samples()).find((s) => s.name === name);
        if (sample) this.set(sample.value);
      },
    });
  }
}

/** Each follower's position, lag, parked items and whether it is retrying (labelled follower="<name>"), read when scraped. */
export function registerFollowerGauges(metrics: Metrics, followers: readonly Follower[]): void {
  for (const { name, help } of followerGauges(followers)) {
    new Gauge({
      name,
      help,
      labelNames: ['follower'] as const,
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const { follower, value } of followerGauges(followers).find((g) => g.name === name)?.values ?? []) this.set({ follower }, value);
      },
    });
  }
}
