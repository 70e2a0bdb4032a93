import type { FastifyPluginAsync } from 'fastify';
import type { EventStore } from '@sluice/event-store';
import type { Metrics } from '../metrics.js';
import type { IngestQueue } from './ingest.js';

export interface HealthRouteOptions {
  store: EventStore;
  metrics: Metrics;
  isShuttingDown: () => boolean;
  /** distributed mode: not ready while Kafka misses the produce deadline (ingest would answer 503) */
  queue?: Pick<IngestQueue, 'reachable'> | undefined;
}

export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, { store, metrics, isShuttingDown, queue }) => {
  app.get('/healthz', { schema: { summary: 'Liveness: the process answers', hide: false } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { summary: 'Readiness: the event store answers (in distributed mode: Kafka acknowledges in time) and the server is not shutting down' } }, async (_request, reply) => {
    if (isShuttingDown()) return reply.status(503).send({ status: 'shutting down' });
    if (queue && !queue.reachable()) return reply.status(503).send({ status: 'kafka unavailable' });
    try {
      return { status: 'ready', headPosition: await store.headPosition() };
    } catch (err) {
      app.log.warn({ err }, 'readiness check failed');
      return reply.status(503).send({ status: 'event store unavailable' });
    }
  });
  app.get('/metrics', { config: { scope: 'read' }, schema: { summary: 'Prometheus metrics' } }, async (_request, reply) => {
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
