import type { FastifyPluginAsync, FastifyReply, FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import type { EventStore } from '@sluice/event-store';
import { SluiceEventSchema } from '@sluice/schemas';
import { TouchpointConflictError, appendTouchpoints, validateBatch } from '@sluice/touchpoint-log';
import type { AppendTouchpointsResult, RawItem } from '@sluice/touchpoint-log';
import type { SluiceEvent } from '@sluice/schemas';
import { NdjsonBody } from '../body-parsers.js';
import type { Metrics } from '../metrics.js';
import { ProblemError } from '../problem.js';

/**
 * Kafka ingestion (distributed mode): accepted events are produced to a topic
 * instead of appended, and the kafka-bridge appends them to the store.
 */
export interface IngestQueue {
  readonly topic: string;
  /** how long publish waits for the broker's acknowledgement */
  readonly deadlineMs: number;
  /**
   * 'acknowledged' once the broker has every event (acks from all in-sync
   * replicas); 'deadline-passed' when it did not answer within deadlineMs:
   * the events are not accepted.
   */
  publish(events: readonly SluiceEvent[]): Promise<'acknowledged' | 'deadline-passed'>;
  /** false while the broker is not answering within the deadline (readiness) */
  reachable(): boolean;
}

export interface IngestRouteOptions {
  store: EventStore;
  metrics: Metrics;
  maxEvents: number;
  /** with it, POST /v1/events answers 202 once Kafka has the events, instead of 200 once the store has them */
  queue?: IngestQueue | undefined;
}

const IngestResponse = z.object({
  accepted: z.number().int().describe('events written by this request'),
  duplicates: z.number().int().describe('events whose id was already stored (a safe retry): nothing written'),
  positions: z.array(z.number().int()).describe('global log position of each event, in request order'),
});

const ConflictProblem = z
  .object({
    type: z.literal('https://sluice.dev/problems/event-id-conflict'),
    title: z.string(),
    status: z.literal(409),
    detail: z.string(),
    conflicts: z.array(
      z.object({
        index: z.number().int().describe('0-based index of the event in the batch'),
        line: z.number().int().optional().describe('its 1-based line, for NDJSON'),
        id: z.string(),
        earlierIndex: z.number().int().optional().describe('the earlier event of this batch with the same id and other content; absent when the id was stored before'),
        message: z.string(),
      }),
    ),
  })
  .describe('application/problem+json: events reuse ids with a different type or data; nothing was written');

const QueuedResponse = z.object({
  status: z.literal('accepted_for_ingestion'),
  accepted: z.number().int().describe('events Kafka acknowledged; the kafka-bridge appends them: an id already stored with the same type and data is written once, one with other content is dead-lettered (step conflict)'),
  topic: z.string().describe('the topic holding them'),
});

function itemsOf(body: unknown): RawItem[] | ProblemError {
  if (body instanceof NdjsonBody) return body.items;
  if (Array.isArray(body)) return body.map((value) => ({ value }));
  if (typeof body === 'object' && body !== null) return [{ value: body }];
  return new ProblemError(400, 'invalid-events', 'Invalid events', 'send one event object, a JSON array of events, or NDJSON (application/x-ndjson)');
}

/** A batch as fastify's validation hands it on: its items as sent (for the lines of a conflict) and its events, validated. */
interface ValidBatch {
  items: RawItem[];
  events: SluiceEvent[];
}

/**
 * Fastify's one check of the batch: every bad event reported with its index
 * (and line, for NDJSON), which a schema over the whole body cannot say.
 */
function batchValidator(maxEvents: number, metrics: Metrics): FastifySchemaCompiler<unknown> {
  return () => (body) => {
    const items = itemsOf(body);
    if (items instanceof ProblemError) return { error: items };
    if (items.length === 0) return { error: new ProblemError(400, 'empty-batch', 'Empty batch', 'the batch holds no events') };
    if (items.length > maxEvents) {
      return { error: new ProblemError(413, 'too-many-events', 'Too many events', `the batch holds ${items.length} events; the limit is ${maxEvents} per request`) };
    }
    const validation = validateBatch(items);
    if (validation.ok) return { value: { items, events: validation.events } satisfies ValidBatch };
    metrics.ingestedEvents.inc({ outcome: 'rejected' }, items.length);
    const detail = `${validation.invalidItems} of ${items.length} event${items.length > 1 ? 's are' : ' is'} invalid; nothing was written`;
    return { error: new ProblemError(400, 'invalid-events', 'Invalid events', detail, validation.issues) };
  };
}

export const ingestRoutes: FastifyPluginAsync<IngestRouteOptions> = async (app, { store, metrics, maxEvents, queue }) => {
  // the body as the validator hands it on, not as the schema documents it
  app.post<{ Body: ValidBatch }>('/v1/events', {
    config: { scope: 'ingest' },
    schema: {
      summary: 'Ingest touchpoint events',
      description:
        `One event object, a JSON array, or NDJSON (application/x-ndjson), at most ${maxEvents} events per request. ` +
        'A batch is atomic: if any event is invalid the answer is 400 listing every bad event by index and field, and nothing is written. ' +
        'A 200 means every event is durably stored. Retrying with the same ids is safe: an event whose id is already stored with the same type and data ' +
        '(key order aside) is a duplicate, written once. The same id with a different type or data is a conflict, not a retry: ' +
        'the answer is 409 (event-id-conflict) listing each such event by index (and line), and nothing is written; a corrected event needs a new id. ' +
        'In distributed mode (Kafka ingestion) the answer is 202 once Kafka acknowledged every event: the events are accepted for ingestion, ' +
        'their positions are not known yet, and the kafka-bridge appends them. ' +
        'When Kafka does not acknowledge within the produce deadline the answer is 503 (kafka-unavailable, with Retry-After): nothing was accepted; resend the same batch.',
      body: z.union([SluiceEventSchema, z.array(SluiceEventSchema)]),
      consumes: ['application/json', 'application/x-ndjson'],
      response: { 200: IngestResponse, 202: QueuedResponse, 409: ConflictProblem },
    },
    // the body schema above documents the API; the validator checks the batch event by event
    validatorCompiler: batchValidator(maxEvents, metrics),
    handler: async (request, reply) => {
      const { items, events } = request.body;
      const outcome = await acceptEvents({ store, metrics, queue }, events, reply).catch((err: unknown) => {
        if (!(err instanceof TouchpointConflictError)) throw err;
        metrics.ingestedEvents.inc({ outcome: 'rejected' }, items.length);
        throw conflictProblem(err, items);
      });
      if (outcome.kind === 'appended') return outcome.result;
      return reply.code(202).send({ status: 'accepted_for_ingestion' as const, accepted: items.length, topic: outcome.topic });
    },
  });
};

/** Where valid events go: the store, or Kafka in distributed mode. */
export interface EventSink {
  store: EventStore;
  metrics: Metrics;
  queue?: IngestQueue | undefined;
}
export type Accepted = { kind: 'appended'; result: AppendTouchpointsResult } | { kind: 'queued'; topic: string };

/**
 * The one write path of every door that takes events over HTTP (this route,
 * the Segment endpoint, the tracker's collect route): validated events
 * appended idempotently, or produced to Kafka, with the ingest metrics. A
 * TouchpointConflictError (nothing written) is the caller's to answer; Kafka
 * missing its deadline is a 503 with Retry-After (nothing accepted).
 */
export async function acceptEvents({ store, metrics, queue }: EventSink, events: readonly SluiceEvent[], reply: FastifyReply): Promise<Accepted> {
  if (queue) {
    const stopTimer = metrics.appendSeconds.startTimer();
    const outcome = await queue.publish(events);
    stopTimer();
    if (outcome === 'deadline-passed') {
      // A produce request already on its way may still complete after
      // this answer, so these events can reach the topic although the
      // client was told they were not accepted, and again when it
      // resends. That is safe only because the bridge appends an event id
      // once (appendTouchpoints counts the second copy as a duplicate):
      // the store holds each event once either way.
      metrics.ingestedEvents.inc({ outcome: 'unavailable' }, events.length);
      const seconds = Math.ceil(queue.deadlineMs / 1000);
      void reply.header('retry-after', String(seconds));
      throw new ProblemError(
        503,
        'kafka-unavailable',
        'Kafka unavailable',
        `Kafka did not acknowledge the events within ${queue.deadlineMs / 1000} s: they were NOT accepted; resend the same batch (the same ids are stored once) after ${seconds} s`,
      );
    }
    metrics.ingestBatchSize.observe(events.length);
    metrics.ingestedEvents.inc({ outcome: 'queued' }, events.length);
    return { kind: 'queued', topic: queue.topic };
  }
  const stopTimer = metrics.appendSeconds.startTimer();
  const result = await appendTouchpoints(store, events);
  stopTimer();
  metrics.ingestBatchSize.observe(events.length);
  metrics.ingestedEvents.inc({ outcome: 'accepted' }, result.accepted);
  if (result.duplicates > 0) metrics.ingestedEvents.inc({ outcome: 'duplicate' }, result.duplicates);
  return { kind: 'appended', result };
}

export function conflictProblem(error: TouchpointConflictError, items: readonly RawItem[]): ProblemError {
  const lineOf = (index: number) => items[index]?.line;
  const at = (index: number) => {
    const line = lineOf(index);
    return line === undefined ? `event ${index}` : `event ${index} (line ${line})`;
  };
  const conflicts = error.conflicts.map(({ index, id, earlierIndex }) => {
    const line = lineOf(index);
    return {
      index,
      ...(line === undefined ? {} : { line }),
      id,
      ...(earlierIndex === undefined
        ? { message: `id ${JSON.stringify(id)} is already stored with a different type or data` }
        : { earlierIndex, message: `id ${JSON.stringify(id)} is also the id of ${at(earlierIndex)} of this batch, with a different type or data` }),
    };
  });
  const n = conflicts.length;
  return new ProblemError(
    409,
    'event-id-conflict',
    'Event id conflict',
    `${n} of ${items.length} event${items.length > 1 ? 's' : ''} reuse${n === 1 ? 's' : ''} an id with a different type or data; nothing was written. ` +
      'An exact retry (same type and data) is accepted as a duplicate; a corrected event needs an id of its own.',
    undefined,
    { conflicts },
  );
}
