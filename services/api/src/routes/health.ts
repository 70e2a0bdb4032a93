import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { EventStore } from '@sluice/event-store';
import type { Follower, FollowerFailure, FollowerState } from '@sluice/follower';
import type { Metrics } from '../metrics.js';
import type { IngestQueue } from './ingest.js';

export interface HealthRouteOptions {
  store: EventStore;
  metrics: Metrics;
  isShuttingDown: () => boolean;
  /** distributed mode: not ready while Kafka misses the produce deadline (ingest would answer 503) */
  queue?: Pick<IngestQueue, 'reachable'> | undefined;
  /** every follower this process runs */
  followers: readonly Follower[];
  /** those whose positions are log positions (the projector, the sinks): ready once at the log's head as of start; the others at their own source's */
  onLog: ReadonlySet<Follower>;
}

/** A follower as /readyz lists it. */
export interface FollowerReadiness {
  name: string;
  state: FollowerState;
  position: number;
  /** the log's head now; for the lead-changes publisher, the change feed's as of its last look */
  head: number;
  lag: number;
  /** items parked since this process started (`sluice parked` lists every one kept) */
  parked: number;
  /** set while it retries */
  failure?: FollowerFailure;
}

/**
 * Readiness: every follower has reached the head as of the start (the log's
 * head when the API was built; a follower of another source, its own), and
 * none is retrying a failure now. Reaching it is remembered: a follower
 * behind later (a burst of events) leaves the process ready, with freshness
 * on each answer saying how far behind it is.
 */
function readinessOf(followers: readonly Follower[], onLog: ReadonlySet<Follower>, logHead: () => Promise<number>) {
  const reached = new Set<Follower>();
  const stopped = new Set<Follower>();
  let startHead: Promise<number> | undefined;
  const start = () => {
    // a store that does not answer at start is asked again by the next /readyz
    startHead ??= logHead().then(
      (head) => {
        for (const f of followers) {
          f.caughtUp(onLog.has(f) ? head : undefined).then(
            () => reached.add(f),
            () => stopped.add(f),
          );
        }
        return head;
      },
      (err: unknown) => {
        startHead = undefined;
        throw err;
      },
    );
    return startHead;
  };
  void start().catch(() => undefined);

  return async (logHeadNow: number) => {
    const head = await start();
    const reasons: string[] = [];
    const listed = followers.map((f): FollowerReadiness => {
      const s = f.status();
      // a follower of the log is behind the log, whatever it saw last (a stopped one looks no more)
      const its = onLog.has(f) ? Math.max(logHeadNow, s.head) : s.head;
      if (s.state === 'retrying') reasons.push(`${s.name} is retrying (attempt ${s.failure?.attempts ?? 1}, failing since ${s.failure?.since ?? 'now'}): ${s.failure?.reason ?? 'unknown'}`);
      else if (stopped.has(f) || s.state === 'stopped') reasons.push(`${s.name} stopped at position ${s.position}`);
      else if (!reached.has(f)) reasons.push(`${s.name} is catching up: position ${s.position} of ${onLog.has(f) ? `${head}, the log's head at start` : `${s.head}`}`);
      return { name: s.name, state: s.state, position: s.position, head: its, lag: Math.max(0, its - s.position), parked: s.parkedSinceStart, ...(s.failure ? { failure: s.failure } : {}) };
    });
    return { reasons, followers: listed };
  };
}

const FollowerReadinessSchema = z.looseObject({
  name: z.string(),
  state: z.string(),
  position: z.number().int(),
  head: z.number().int(),
  lag: z.number().int(),
  parked: z.number().int(),
});
const Readiness = z.object({ status: z.literal('ready'), headPosition: z.number().int(), followers: z.array(FollowerReadinessSchema) });
const NotReady = z.object({
  status: z.string().describe('not ready, shutting down, kafka unavailable or event store unavailable'),
  headPosition: z.number().int().optional(),
  reasons: z.array(z.string()).optional().describe('each follower holding readiness back, and why'),
  followers: z.array(FollowerReadinessSchema).optional(),
});

export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, { store, metrics, isShuttingDown, queue, followers, onLog }) => {
  const readiness = readinessOf(followers, onLog, () => store.headPosition());
  app.get('/healthz', { schema: { summary: 'Liveness: the process answers', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: every follower has reached the head as of start and none is retrying',
        description:
          'Ready (200) when the server is not shutting down, the event store answers (in distributed mode: Kafka acknowledges in time), ' +
          "every follower (the projector, the ClickHouse sinks, the lead-changes publisher) has reached the head of its source as of the server's start " +
          "(the log's head for all but the publisher) and none is retrying a failure (disk full, a server away). Once reached, a follower behind " +
          'again leaves the server ready: each answer says how fresh it is. The body lists each follower: name, state, position, head, lag, ' +
          'parked (since start) and the failure being retried; a 503 adds `reasons`, naming the follower and why.',
        response: { 200: Readiness, 503: NotReady },
      },
    },
    async (_request, reply) => {
      if (isShuttingDown()) return reply.status(503).send({ status: 'shutting down' });
      if (queue && !queue.reachable()) return reply.status(503).send({ status: 'kafka unavailable' });
      let headPosition: number;
      let ready: Awaited<ReturnType<typeof readiness>>;
      try {
        headPosition = await store.headPosition();
        ready = await readiness(headPosition);
      } catch (err) {
        app.log.warn({ err }, 'readiness check failed');
        return reply.status(503).send({ status: 'event store unavailable' });
      }
      if (ready.reasons.length > 0) return reply.status(503).send({ status: 'not ready', headPosition, reasons: ready.reasons, followers: ready.followers });
      return { status: 'ready', headPosition, followers: ready.followers };
    },
  );
  // the text exposition format: sent as it is (fastify serializes only JSON answers), the schema documents it
  app.get('/metrics', { config: { scope: 'read' }, schema: { summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: z.string() } } }, async (_request, reply) => {
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
