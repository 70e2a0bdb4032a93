import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FreshnessSchema } from '@sluice/analytics';
import type { EventStore } from '@sluice/event-store';
import type { ProjectionStore, Projector, ReadModels } from '@sluice/projector';
import { GRADES, Id, OffsetDateTime, QUADRANTS } from '@sluice/schemas';
import type { RuleConfig } from '@sluice/schemas';
import { readLeadHistory } from '@sluice/touchpoint-log';
import { ProblemError } from '../problem.js';
import { definedOnly } from '../query-string.js';
import { FRESHNESS_HEADER, FRESHNESS_NOTE, freshnessHeader, marked } from './analytics.js';
import type { FreshnessCheck } from './analytics.js';

export interface Projections {
  projector: Projector;
  projections: ProjectionStore;
  /** the live rules the read models are built under */
  config: RuleConfig;
}

/** What the routes read: the read models through their port (never a database handle), and the projector whose position marks each answer. */
export interface ReadSide {
  projector: Projector;
  readModels: ReadModels;
  /** the live rules the read models are built under */
  config: RuleConfig;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const booleanText = z.enum(['true', 'false']).transform((v) => v === 'true');

const LeadListQuery = z.strictObject({
  stage: z.string().max(100).optional(),
  grade: z.enum(GRADES).optional(),
  quadrant: z.enum(QUADRANTS).optional(),
  owner: Id.optional(),
  businessUnit: z.string().max(200).optional(),
  slaBreached: booleanText.optional(),
  kind: z.enum(['lead', 'anonymous']).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const ConversionQuery = z.strictObject({
  period: z.enum(['day', 'week', 'month', 'quarter', 'year', 'all']).default('month'),
  pairs: z.enum(['step_to_step', 'from_first', 'every_later']).optional(),
  from: z.string().regex(DAY, { message: 'must be a day, YYYY-MM-DD' }).optional(),
  to: z.string().regex(DAY, { message: 'must be a day, YYYY-MM-DD' }).optional(),
  businessUnit: z.string().max(200).optional(),
  source: z.string().max(200).optional(),
  groupBy: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(['businessUnit', 'source'])))
    .optional(),
});


/**
 * Lead state, lists, live conversion and the change stream, all served from
 * the projector's read models (SQLite): instant, no ClickHouse round trip.
 */
/** A lead as the read models hold it: documented by its description, sent as it is. */
const LeadSchema = z.unknown().describe('LeadView of @sluice/projector: kind (lead | anonymous), id, configVersion, stage, scores, owner, business unit, SLA clocks');

export const projectionRoutes: FastifyPluginAsync<ReadSide & { store: EventStore; fresh: FreshnessCheck }> = async (app, { projector, readModels, store, fresh }) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  // open change streams end when the server closes, or close() would wait on them forever
  const openStreams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of openStreams) end();
  });

  routes.get('/v1/leads/:id', {
    config: { scope: 'read' },
    schema: {
      summary: 'One lead: state, scores with the rule behind each point, stage history and touchpoints',
      description:
        'Without asOf: the read model (the lead as of its last event). With asOf: the lead evaluated by the rules at that instant ' +
        '(score decay, pool recycling, SLA breaches), folded again from the log. A 404 while the read models are catching up says so, and ' +
        `carries the Sluice-Freshness header. ${FRESHNESS_NOTE}`,
      params: z.object({ id: Id }),
      querystring: z.object({ asOf: OffsetDateTime.optional() }),
      response: {
        200: z.object({
          lead: LeadSchema,
          transitions: z.array(z.unknown()).readonly().describe("the lead's stage transitions, in the stage model's order"),
          touchpoints: z.array(z.unknown()).readonly().describe("the lead's events from the log"),
          freshness: FreshnessSchema,
        }),
      },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const freshness = await fresh([projector]);
      const stored = await readModels.lead(id, request.query.asOf);
      if (stored === undefined) {
        const behind = freshness.caughtUp ? '' : ` (they are catching up: position ${freshness.position} of ${freshness.head})`;
        void reply.header(FRESHNESS_HEADER, freshnessHeader(freshness));
        throw new ProblemError(404, 'lead-not-found', 'Lead not found', `no lead "${id}" in the read models${behind}`);
      }
      // the score breakdown comes with an as-of view: without one asked for, take the lead's own last event
      const lead = stored.scoreBreakdown !== undefined || stored.asOf === null ? stored : ((await readModels.lead(id, stored.asOf)) ?? stored);
      const history = await readLeadHistory(store, id);
      return marked(reply, freshness, { lead, transitions: await readModels.leadTransitions(id), touchpoints: history.touchpoints });
    },
  });

  routes.get('/v1/leads', {
    config: { scope: 'read' },
    schema: {
      summary: 'List leads by stage, grade, quadrant, owner, business unit or SLA breach',
      description: `Cursor pagination: pass nextCursor back as cursor. slaBreached is evaluated now. ${FRESHNESS_NOTE}`,
      querystring: LeadListQuery,
      response: { 200: z.object({ items: z.array(LeadSchema).readonly(), nextCursor: z.string().optional().describe('pass back as cursor for the next page; absent on the last'), freshness: FreshnessSchema }) },
    },
    handler: async (request, reply) => {
      const { cursor, limit, ...filter } = request.query;
      const freshness = await fresh([projector]);
      // the composition root's clock: "breached" means breached by now (a cursor it did not hand out: TYPED_PROBLEMS)
      return marked(reply, freshness, await readModels.listLeads({ ...definedOnly(filter), asOf: Date.now() }, cursor, limit));
    },
  });

  routes.get('/v1/conversion/live', {
    config: { scope: 'read' },
    schema: {
      summary: 'Live stage conversion per cohort',
      description:
        'Per cohort period (the day, ISO week or month in which a lead entered a stage, in the business time zone) and optionally per business ' +
        'unit and source: the leads that entered each stage and how many have reached each later stage so far (skipped stages count as passed ' +
        `through), with stage velocities. Updated as events arrive. ${FRESHNESS_NOTE}`,
      querystring: ConversionQuery,
      response: {
        200: z.object({
          timeZone: z.string(),
          period: z.string(),
          configVersion: z.string(),
          position: z.number().int(),
          stages: z.array(z.string()).readonly(),
          pairs: z.array(z.object({ from: z.string(), to: z.string() })).readonly(),
          rows: z.array(z.unknown()).readonly().describe('LiveConversionRow of @sluice/projector, sorted by pair, period, business unit, source'),
          freshness: FreshnessSchema,
        }),
      },
    },
    handler: async (request, reply) => marked(reply, await fresh([projector]), await readModels.liveConversion(definedOnly(request.query))),
  });

  routes.get('/v1/stream', {
    config: { scope: 'read' },
    schema: {
      summary: 'Server-Sent Events: stage changes and hot leads',
      description:
        'Each event has an id (its sequence number); reconnect with Last-Event-ID (or ?after=) to resume without a gap. The feed keeps the ' +
        'last 10,000 changes: a client resuming from further back, or falling that far behind, first gets `event: changes_lost` ' +
        '(data: fromSeq, toSeq, the changes it can no longer get; its id is toSeq). It should refetch the state it shows (e.g. GET /v1/leads): ' +
        'changes in that range are not sent again.',
      querystring: z.object({ after: z.coerce.number().int().min(0).optional() }),
      produces: ['text/event-stream'],
      // written to the socket as it comes (the reply is hijacked): the schema documents the stream, nothing checks it
      response: { 200: z.string().describe('`id: <seq>`, `event: <type>`, `data: <the change as JSON>` per change') },
    },
    handler: async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      const after = typeof lastEventId === 'string' && /^\d+$/.test(lastEventId) ? Number(lastEventId) : request.query.after;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      raw.write(': sluice change stream\n\n');
      const changes = projector.changes(after);
      const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
      const end = () => void changes.return(undefined);
      openStreams.add(end);
      request.raw.on('close', end);
      try {
        for await (const change of changes) {
          raw.write(`id: ${change.seq}\nevent: ${change.type}\ndata: ${JSON.stringify(change)}\n\n`);
        }
      } finally {
        openStreams.delete(end);
        clearInterval(heartbeat);
        raw.end();
      }
    },
  });
};
