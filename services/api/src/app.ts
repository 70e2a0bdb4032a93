import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { EventStore } from '@sluice/event-store';
import { sqliteReadModels } from '@sluice/projector';
import { installApiKeys } from './auth.js';
import type { ApiKey } from './auth.js';
import { installBodyParsers } from './body-parsers.js';
import type { Follower } from '@sluice/follower';
import { CaptureSchema, DEFAULT_FRESHNESS_WAIT_MS } from '@sluice/schemas';
import type { CaptureConfig } from '@sluice/schemas';
import { createMetrics, registerFollowerGauges, registerProjectionGauges } from './metrics.js';
import type { Metrics } from './metrics.js';
import { installProblemHandlers } from './problem.js';
import { healthRoutes } from './routes/health.js';
import { ingestRoutes } from './routes/ingest.js';
import { importRoutes } from './routes/imports.js';
import type { IngestQueue } from './routes/ingest.js';
import { leadRoutes } from './routes/leads.js';
import { freshnessCheck } from './routes/analytics.js';
import type { Analytics } from './routes/analytics.js';
import { planRoutes } from './routes/plans.js';
import { queryRoutes } from './routes/queries.js';
import { revenueRoutes } from './routes/revenue.js';
import { forecastRoutes } from './routes/forecast.js';
import { projectionRoutes } from './routes/projections.js';
import type { Projections, ReadSide } from './routes/projections.js';
import { whatIfRoutes } from './routes/whatif.js';
import type { WhatIfWorker } from './routes/whatif.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { CaptureRejects, captureRejectRoutes } from './routes/capture-rejects.js';
import { segmentRoutes } from './routes/segment.js';
import { trackerRoutes } from './routes/tracker.js';
import type { DashboardOptions } from './routes/dashboard.js';

export interface ApiLimits {
  /** most events one ingest request may carry */
  maxEvents: number;
  /** largest request body in bytes */
  bodyLimitBytes: number;
}

export interface ApiDeps {
  store: EventStore;
  limits: ApiLimits;
  apiKeys: readonly ApiKey[];
  /** ClickHouse (embedded chDB or a server) and its live sink; without it the query routes are absent */
  analytics?: Analytics;
  /**
   * the read models and the projector whose position marks their answers: the projector's own SQLite store (embedded), or
   * a ReadModels port over what another process projects (an API replica); without it the lead-state, live-conversion and
   * stream routes are absent
   */
  projections?: Projections | ReadSide;
  logger?: FastifyServerOptions['logger'];
  metrics?: Metrics;
  /** distributed mode: ingest produces to Kafka (the kafka-bridge appends); without it ingest appends to `store` */
  ingestQueue?: IngestQueue;
  /**
   * every follower the process runs (the projector, the ClickHouse sinks, the lead-changes publisher), which /readyz and /metrics
   * report; without it, those of `analytics` and `projections`
   */
  followers?: readonly Follower[];
  /** how long an answer from the read models or ClickHouse waits for the followers it reads (server.freshnessWaitMs) */
  freshnessWaitMs?: number;
  /** the web dashboard's built assets, served at `/`; without it there is no dashboard */
  dashboard?: DashboardOptions;
  /** how a what-if's worker thread opens the event store; without it POST /v1/whatif answers 503 */
  whatIf?: WhatIfWorker;
  /** the configuration's capture section (site keys, the tracker, the Segment endpoint); without it its defaults */
  capture?: CaptureConfig;
}

export const DEFAULT_LIMITS: ApiLimits = { maxEvents: 10_000, bodyLimitBytes: 16 * 1024 * 1024 };

/** Builds the HTTP app without listening (tests use `inject()`; `startServer` listens). */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: deps.limits.bodyLimitBytes,
    // fastify's own close waits for in-flight requests; keep-alive sockets that are idle close at once
    forceCloseConnections: 'idle',
  });
  const metrics = deps.metrics ?? createMetrics();
  let shuttingDown = false;
  app.addHook('preClose', async () => {
    shuttingDown = true;
  });
  // Requests still in flight when close() starts would otherwise leave their
  // keep-alive sockets open after answering, and close() would wait on them.
  app.addHook('onSend', async (_request, reply) => {
    if (shuttingDown) void reply.header('connection', 'close');
  });

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installProblemHandlers(app, deps.limits.bodyLimitBytes);
  installBodyParsers(app);
  const capture = deps.capture ?? CaptureSchema.parse({});
  installApiKeys(app, deps.apiKeys, capture.site.keys);
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpSeconds.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Sluice API',
        version: '1.0.0',
        description: 'Event-sourced funnel analytics: ingest touchpoints, read leads, query funnels.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API key (scopes: ingest, read, admin); required when the server listens beyond loopback' },
          basic: { type: 'http', scheme: 'basic', description: 'the Segment / RudderStack write key: an API key (ingest scope) as the user name, no password' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  // the followers answers read: their positions are log positions
  const onLog = new Set([deps.analytics?.sink, deps.analytics?.stageSink, deps.projections?.projector].filter((f): f is Follower => f !== undefined));
  const followers = deps.followers ?? [...onLog];
  const fresh = freshnessCheck(() => deps.store.headPosition(), deps.freshnessWaitMs ?? DEFAULT_FRESHNESS_WAIT_MS);
  registerFollowerGauges(metrics, followers);
  await app.register(healthRoutes, { store: deps.store, metrics, isShuttingDown: () => shuttingDown, queue: deps.ingestQueue, followers, onLog });
  await app.register(ingestRoutes, { store: deps.store, metrics, maxEvents: deps.limits.maxEvents, queue: deps.ingestQueue });
  const rejects = new CaptureRejects(metrics, capture.segment.deadLetterLimit);
  const sink = { store: deps.store, metrics, queue: deps.ingestQueue };
  await app.register(segmentRoutes, { sink, capture, rejects, maxEvents: deps.limits.maxEvents });
  await app.register(trackerRoutes, { sink, capture, rejects, maxEvents: deps.limits.maxEvents });
  await app.register(captureRejectRoutes, { rejects });
  await app.register(leadRoutes, { store: deps.store });
  // the routes read through the read-model port; only the projector's own engine holds the SQLite handle
  const given = deps.projections;
  const read: ReadSide | undefined =
    given === undefined || 'readModels' in given
      ? given
      : { projector: given.projector, config: given.config, readModels: sqliteReadModels(given.projections, { store: deps.store, config: given.config }) };
  // an import's dates without an offset are read in the business time zone (UTC without the rules)
  await app.register(importRoutes, { store: deps.store, defaultTimeZone: read?.config.timeZone ?? 'UTC' });
  await app.register(planRoutes, { ...(read ? { projections: read } : {}), ...(deps.analytics ? { analytics: deps.analytics } : {}), fresh });
  await app.register(queryRoutes, { ...(deps.analytics ? { analytics: deps.analytics } : {}), ...(read ? { projections: read } : {}), fresh });
  if (deps.analytics) await app.register(revenueRoutes, { ...deps.analytics, fresh });
  if (deps.analytics) await app.register(forecastRoutes, { ...deps.analytics, fresh });
  if (read) {
    await app.register(projectionRoutes, { ...read, store: deps.store, fresh });
    await registerProjectionGauges(metrics, read.projector);
    await app.register(whatIfRoutes, { live: read.config, worker: deps.whatIf });
  }
  if (deps.dashboard) await app.register(dashboardRoutes, deps.dashboard);
  return app;
}
