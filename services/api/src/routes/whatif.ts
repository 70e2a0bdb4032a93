import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConfigError, parseRuleConfig } from '@sluice/config';
import type { EventStore } from '@sluice/event-store';
import { whatIf } from '@sluice/projector';
import { OffsetDateTime } from '@sluice/schemas';
import type { RuleConfig } from '@sluice/schemas';
import { ProblemError } from '../problem.js';

export interface WhatIfRouteOptions {
  store: EventStore;
  /** the rules the live read models run under: the left side of the comparison */
  live: RuleConfig;
}

/** A rule file is a few kilobytes; the limit keeps a replay request from carrying the 16 MiB an event batch may. */
export const WHATIF_BODY_LIMIT_BYTES = 1024 * 1024;

const WhatIfBody = z.strictObject({
  /** candidate rules: the same document as the `rules` a config file holds (validated by @sluice/config, so issues name its paths) */
  candidate: z.unknown(),
  /** only actors first seen in [from, to) */
  window: z.strictObject({ from: OffsetDateTime, to: OffsetDateTime }).optional(),
});

/**
 * What-if over HTTP: replays the log under candidate rules into scratch
 * models beside the live rules (as `sluice whatif` does). Read scope: nothing
 * live is read or written. A replay takes a core for as long as the log is
 * long, so one runs at a time and a second request is told to come back.
 */
export const whatIfRoutes: FastifyPluginAsync<WhatIfRouteOptions> = async (app, { store, live }) => {
  let running = false;
  app.withTypeProvider<ZodTypeProvider>().post('/v1/whatif', {
    config: { scope: 'read' },
    bodyLimit: WHATIF_BODY_LIMIT_BYTES,
    schema: {
      summary: 'What if candidate rules had been live',
      description:
        'Replays the log once under the live rules and once under the candidate rules (`candidate`: a rule configuration, as in a config file) ' +
        'into scratch models and returns both sides: stage counts and conversion, and the leads whose stage would differ (at most 1,000 listed, ' +
        'all counted). `window` keeps actors first seen in [from, to). Nothing live changes. One what-if runs at a time (429 while one does).',
      body: WhatIfBody,
    },
    handler: async (request) => {
      let candidate: RuleConfig;
      try {
        candidate = parseRuleConfig(request.body.candidate, 'candidate');
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        throw new ProblemError(
          400,
          'invalid-candidate-rules',
          'Invalid candidate rules',
          `${err.issues.length} problem${err.issues.length === 1 ? '' : 's'} in the candidate rules`,
          err.issues.map((i) => ({ field: i.path === '' ? 'candidate' : `candidate.${i.path}`, message: i.message })),
        );
      }
      if (running) throw new ProblemError(429, 'whatif-busy', 'A what-if is running', 'another what-if is replaying the log; try again when it has answered');
      running = true;
      try {
        const { window } = request.body;
        return await whatIf({ store, live, candidate, ...(window ? { window } : {}) });
      } finally {
        running = false;
      }
    },
  });
};
