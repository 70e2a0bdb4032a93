import type { FastifyPluginAsync, FastifySchemaCompiler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseWith } from '@sluice/analytics';
import { ConfigError, parseRuleConfig } from '@sluice/config';
import { runWhatIfInWorker } from '@sluice/projector';
import type { ReplayProgress, WhatIfInWorkerOptions } from '@sluice/projector';
import { OffsetDateTime } from '@sluice/schemas';
import type { RuleConfig } from '@sluice/schemas';
import { ProblemError } from '../problem.js';

/** How a what-if worker opens the log and how much heap it may take. */
export type WhatIfWorker = Pick<WhatIfInWorkerOptions, 'store' | 'maxHeapMb'>;

export interface WhatIfRouteOptions {
  /** the rules the live read models run under: the left side of the comparison */
  live: RuleConfig;
  /** without it the route answers 503: a replay never runs on the server's own thread */
  worker: WhatIfWorker | undefined;
}

/** A rule file is a few kilobytes; the limit keeps a replay request from carrying the 16 MiB an event batch may. */
export const WHATIF_BODY_LIMIT_BYTES = 1024 * 1024;

const WhatIfBody = z.strictObject({
  /** candidate rules: the same document as the `rules` a config file holds (validated by @sluice/config, so issues name its paths) */
  candidate: z.unknown(),
  /** only actors first seen in [from, to) */
  window: z.strictObject({ from: OffsetDateTime, to: OffsetDateTime }).optional(),
});
type WhatIfRequest = Omit<z.output<typeof WhatIfBody>, 'candidate'> & { candidate: RuleConfig };

/**
 * Fastify's one validation of the body: its shape, then the candidate as the
 * rules of a config file (@sluice/config), each issue named by its path under
 * candidate; the handler gets the parsed rules.
 */
const whatIfValidator: FastifySchemaCompiler<unknown> = () => (value) => {
  const body = parseWith(WhatIfBody, value);
  if (!body.ok) return { error: new ProblemError(400, 'invalid-request', 'Invalid request', "the request's body is invalid", body.issues.map((i) => ({ field: ['body', i.field].filter(Boolean).join('.'), message: i.message }))) };
  try {
    return { value: { ...body.query, candidate: parseRuleConfig(body.query.candidate, 'candidate') } satisfies WhatIfRequest };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const issues = err.issues.map((i) => ({ field: i.path === '' ? 'candidate' : `candidate.${i.path}`, message: i.message }));
    return { error: new ProblemError(400, 'invalid-candidate-rules', 'Invalid candidate rules', `${issues.length} problem${issues.length === 1 ? '' : 's'} in the candidate rules`, issues) };
  }
};

/**
 * What-if over HTTP: replays the log under candidate rules into scratch
 * models beside the live rules (as `sluice whatif` does). Read scope: nothing
 * live is read or written. The replay runs in a worker thread, so the server
 * goes on answering meanwhile; it takes a core for as long as the log is
 * long, so one runs at a time and a second request is told when to come back.
 */
export const whatIfRoutes: FastifyPluginAsync<WhatIfRouteOptions> = async (app, { live, worker }) => {
  let running: Run | undefined;
  // a replay runs for as long as the log is long: close() stops it rather than wait for it
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());
  app.withTypeProvider<ZodTypeProvider>().post('/v1/whatif', {
    config: { scope: 'read' },
    bodyLimit: WHATIF_BODY_LIMIT_BYTES,
    schema: {
      summary: 'What if candidate rules had been live',
      description:
        'Replays the log once under the live rules and once under the candidate rules (`candidate`: a rule configuration, as in a config file) ' +
        'into scratch models and returns both sides: stage counts and conversion, and the leads whose stage would differ (at most 1,000 listed, ' +
        'all counted). `window` keeps actors first seen in [from, to). Nothing live changes. The replay runs beside the server in a worker whose ' +
        'memory is bounded (503 whatif-out-of-memory past it); one runs at a time (429 with Retry-After while one does).',
      body: WhatIfBody,
      response: {
        200: z.object({
          position: z.number().int().describe('both rule sets saw the log up to here (its head when the what-if started)'),
          events: z.number().int(),
          seconds: z.number(),
          window: z.object({ from: z.string(), to: z.string() }).optional(),
          live: z.unknown().describe('RuleSetOutcome of @sluice/projector: stage counts and conversion under the live rules'),
          candidate: z.unknown().describe('the same under the candidate rules'),
          differences: z.object({ count: z.number().int(), actors: z.array(z.unknown()).readonly().describe('the leads whose stage would differ (at most 1,000 listed)') }),
        }),
      },
    },
    validatorCompiler: whatIfValidator,
    handler: async (request, reply) => {
      const { candidate } = request.body as WhatIfRequest;
      if (worker === undefined) throw new ProblemError(503, 'whatif-unavailable', 'What-if unavailable', 'this server was started without a way for a what-if worker to open the event store');
      if (running) {
        void reply.header('retry-after', String(secondsLeft(running)));
        throw new ProblemError(429, 'whatif-busy', 'A what-if is running', 'another what-if is replaying the log; try again when it has answered');
      }
      const run: Run = { started: performance.now() };
      running = run;
      // a client that went away stops its replay: the next what-if need not wait for an answer nobody reads
      const gone = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) gone.abort();
      });
      try {
        const { window } = request.body;
        const signal = AbortSignal.any([gone.signal, closing.signal]);
        return await runWhatIfInWorker({ ...worker, live, candidate, ...(window ? { window } : {}), signal, onProgress: (p) => (run.progress = p) });
      } catch (err) {
        if (closing.signal.aborted) throw new ProblemError(503, 'shutting-down', 'Shutting down', 'the server is shutting down; its what-if was stopped: ask again once it is back');
        // nginx's 499: nobody reads it, but the request's metrics say why it ended
        if (gone.signal.aborted) throw new ProblemError(499, 'client-closed-request', 'Client closed request', 'the client went away; its what-if was stopped');
        // past its memory bound: TYPED_PROBLEMS
        throw err;
      } finally {
        running = undefined;
      }
    },
  });
};

interface Run {
  started: number;
  progress?: ReplayProgress;
}

/** Retry-After for a second what-if: the running one's remaining events at its rate so far (the replay is most of its time). */
function secondsLeft(run: Run): number {
  const p = run.progress;
  if (p === undefined || p.events === 0) return 1;
  const elapsed = (performance.now() - run.started) / 1000;
  return Math.max(1, Math.ceil(((p.until - p.position) * elapsed) / p.events));
}
