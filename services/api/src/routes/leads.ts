import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EventStore } from '@sluice/event-store';
import { Id } from '@sluice/schemas';
import { readLeadHistory } from '@sluice/touchpoint-log';
import { ProblemError } from '../problem.js';

const LeadEventsResponse = z.object({
  leadId: z.string(),
  linkedAnonymousIds: z.array(z.string()),
  touchpoints: z.array(
    z.object({
      position: z.number().int(),
      streamId: z.string(),
      revision: z.number().int(),
      recordedAt: z.string(),
      event: z.record(z.string(), z.unknown()),
    }),
  ),
});

export const leadRoutes: FastifyPluginAsync<{ store: EventStore }> = async (app, { store }) => {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/leads/:id/events', {
    config: { scope: 'read' },
    schema: {
      summary: "A lead's touchpoints, its anonymous history included",
      description: 'The audit trail: every touchpoint of the lead in occurrence order (ties by log position), each with its global log position.',
      params: z.object({ id: Id }),
      response: { 200: LeadEventsResponse },
    },
    handler: async (request) => {
      const history = await readLeadHistory(store, request.params.id);
      if (history.touchpoints.length === 0) throw new ProblemError(404, 'lead-not-found', 'Lead not found', `no events for lead "${request.params.id}"`);
      return history;
    },
  });
};
