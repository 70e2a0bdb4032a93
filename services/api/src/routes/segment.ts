import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseEvent } from '@sluice/schemas';
import type { CaptureConfig, SluiceEvent } from '@sluice/schemas';
import { TouchpointConflictError } from '@sluice/touchpoint-log';
import { ProblemError } from '../problem.js';
import type { CaptureRejects, RejectedItem } from './capture-rejects.js';
import { acceptEvents } from './ingest.js';
import type { EventSink } from './ingest.js';
import { mapSegmentMessage } from './segment-map.js';

/**
 * The Segment HTTP tracking API (which RudderStack's data plane also speaks)
 * under /segment: `@segment/analytics-node` with `host` and `path:
 * '/segment/v1/batch'`, `@rudderstack/rudder-sdk-node` with `dataPlaneUrl`
 * and the same path, or either product's webhook destination. The write key
 * is an API key with the ingest scope, sent as the HTTP Basic user name.
 *
 * Their clients retry on 5xx (and 429) only, and count anything else as
 * final. So a batch is answered 200 once every good item is stored, and the
 * bad ones (unmapped names, fields Sluice refuses, an id reused with other
 * content) are kept in GET /v1/capture/rejected and counted in /metrics
 * rather than failing the whole batch; a 400 only for a body that is no
 * batch at all (no resend can fix it). The same validation and idempotent
 * append as POST /v1/events: a resent message (same messageId and content)
 * is a duplicate, stored once.
 */
export interface SegmentRouteOptions {
  sink: EventSink;
  capture: Pick<CaptureConfig, 'segment' | 'channels'>;
  rejects: CaptureRejects;
  maxEvents: number;
}

const Message = z.looseObject({
  type: z.string().optional().describe('track, page, identify or group (implied by the path of a single-message route)'),
  messageId: z.string().describe('the event id: a resend with the same id and content is stored once'),
  timestamp: z.string().optional().describe('when it occurred (else originalTimestamp)'),
  userId: z.union([z.string(), z.number()]).optional().describe('the leadId'),
  anonymousId: z.union([z.string(), z.number()]).optional(),
  event: z.string().optional().describe('track: the name, mapped to a Sluice type by capture.segment.events'),
  properties: z.record(z.string(), z.unknown()).optional(),
  traits: z.record(z.string(), z.unknown()).optional(),
  groupId: z.union([z.string(), z.number()]).optional().describe('group: the accountId'),
  context: z.record(z.string(), z.unknown()).optional().describe('context.campaign and context.page.referrer give source, channel and campaign'),
});

const SegmentAnswer = z.object({
  success: z.literal(true),
  accepted: z.number().int().describe('messages stored by this request'),
  duplicates: z.number().int().describe('messages already stored with the same id and content: nothing written'),
  skipped: z.number().int().describe('track names capture.segment.events lacks, with capture.segment.unmapped: skip'),
  rejected: z.array(z.object({ index: z.number().int(), messageId: z.string().optional(), issues: z.array(z.object({ field: z.string(), message: z.string() })) })),
});
type SegmentAnswer = z.infer<typeof SegmentAnswer>;

const SINGLE = ['track', 'identify', 'page', 'group'] as const;
const FORM = 'application/x-www-form-urlencoded';
const consumes = ['application/json', FORM];

export const segmentRoutes: FastifyPluginAsync<SegmentRouteOptions> = async (app, options) => {
  // RudderStack's node client gzips its batches by default, labelled application/x-www-form-urlencoded
  app.addContentTypeParser(FORM, { parseAs: 'string' }, (request, body, done) => app.getDefaultJsonParser('error', 'ignore')(request, body as string, done));
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding']?.toLowerCase();
    // a web page may send that type cross-origin without asking first, but never with a Content-Encoding of its choosing
    if (request.headers['content-type']?.toLowerCase().startsWith(FORM) && (encoding === undefined || encoding === 'identity')) {
      throw new ProblemError(415, 'unsupported-media-type', 'Unsupported media type', `${request.url} takes application/json; ${FORM} only as a gzip or deflate body (as RudderStack's client sends it)`);
    }
    if (encoding === undefined || encoding === 'identity') return payload;
    if (encoding !== 'gzip' && encoding !== 'deflate') throw new ProblemError(415, 'unsupported-encoding', 'Unsupported content encoding', `the body is ${encoding}; send it plain, gzip or deflate`);
    // fastify checks Content-Length against the bytes received, not the bytes decoded
    const decoded = Object.assign(payload.pipe(encoding === 'gzip' ? createGunzip() : createInflate()), { receivedEncodedLength: 0 });
    payload.on('data', (chunk: Buffer) => (decoded.receivedEncodedLength += chunk.length));
    return decoded;
  });
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const description =
    'The Segment / RudderStack tracking spec: 200 once every good message is stored; bad messages are listed in the answer, kept in GET /v1/capture/rejected and counted, ' +
    'since the clients resend only on 5xx. Authenticate with an API key holding the ingest scope as the HTTP Basic user name (the write key).';
  typed.post('/segment/v1/batch', {
    config: { scope: 'ingest' },
    schema: {
      summary: 'Segment / RudderStack batch',
      description,
      body: z.looseObject({ batch: z.array(z.unknown()).describe(`messages (${Message.description ?? 'see the single routes'}); at most ${options.maxEvents}`), context: z.record(z.string(), z.unknown()).optional() }),
      consumes,
      response: { 200: SegmentAnswer },
    },
    handler: async (request, reply) => {
      const { batch, context } = request.body;
      // a batch's context applies to each message, under the message's own
      const messages = context === undefined ? batch : batch.map((m) => (isObject(m) ? { ...m, context: { ...context, ...(isObject(m.context) ? m.context : {}) } } : m));
      return take(messages, options, reply);
    },
  });
  // a Segment or RudderStack webhook destination posts every message, of every type, to one URL
  typed.post('/segment/v1/webhook', {
    config: { scope: 'ingest' },
    schema: { summary: 'Segment / RudderStack webhook destination', description: `${description} One message per request, of the type it says.`, body: Message, consumes, response: { 200: SegmentAnswer } },
    handler: async (request, reply) => take([request.body], options, reply),
  });
  for (const type of SINGLE) {
    typed.post(`/segment/v1/${type}`, {
      config: { scope: 'ingest' },
      schema: { summary: `Segment / RudderStack ${type}`, description, body: Message, consumes, response: { 200: SegmentAnswer } },
      handler: async (request, reply) => take([{ ...request.body, type }], options, reply),
    });
  }
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

async function take(messages: readonly unknown[], { sink, capture, rejects, maxEvents }: SegmentRouteOptions, reply: FastifyReply): Promise<SegmentAnswer> {
  if (messages.length > maxEvents) throw new ProblemError(413, 'too-many-events', 'Too many events', `the batch holds ${messages.length} messages; the limit is ${maxEvents} per request`);
  const rejected: SegmentAnswer['rejected'] = [];
  const reject = (index: number, issues: RejectedItem['issues']) => {
    const item = messages[index];
    const messageId = isObject(item) && typeof item.messageId === 'string' ? item.messageId : undefined;
    rejected.push({ index, ...(messageId === undefined ? {} : { messageId }), issues });
    rejects.reject({ door: 'segment', index, ...(messageId === undefined ? {} : { messageId }), issues, item });
  };
  let skipped = 0;
  const events: SluiceEvent[] = [];
  const indexOf: number[] = [];
  messages.forEach((message, index) => {
    const mapped = mapSegmentMessage(message, capture);
    if (mapped.kind === 'skipped') skipped++;
    else if (mapped.kind === 'rejected') reject(index, [{ field: mapped.field, message: mapped.message }]);
    else {
      const parsed = parseEvent(mapped.event);
      if (!parsed.ok) reject(index, parsed.issues);
      else {
        events.push(parsed.event);
        indexOf.push(index);
      }
    }
  });
  rejects.count('segment', 'skipped', skipped);
  let accepted = 0;
  let duplicates = 0;
  let pending = events;
  // an id reused with other content fails the append as a whole: those messages are turned away, the rest appended once more
  for (let attempt = 0; pending.length > 0 && attempt < 2; attempt++) {
    try {
      const outcome = await acceptEvents(sink, pending, reply);
      if (outcome.kind === 'appended') ({ accepted, duplicates } = outcome.result);
      else accepted = pending.length;
      pending = [];
    } catch (err) {
      if (!(err instanceof TouchpointConflictError) || attempt > 0) throw err;
      const conflicting = new Set(err.conflicts.map((c) => c.index));
      for (const c of err.conflicts) {
        const why = c.earlierIndex === undefined ? 'is already stored with a different type or data' : `is also the messageId of message ${indexOf[c.earlierIndex]} of this batch, with other content`;
        reject(indexOf[c.index]!, [{ field: 'messageId', message: `messageId ${JSON.stringify(c.id)} ${why}` }]);
      }
      const keep = pending.map((_, i) => i).filter((i) => !conflicting.has(i));
      pending = keep.map((i) => pending[i]!);
      const kept = keep.map((i) => indexOf[i]!);
      indexOf.splice(0, indexOf.length, ...kept);
    }
  }
  rejects.count('segment', 'accepted', accepted);
  rejects.count('segment', 'duplicate', duplicates);
  rejected.sort((a, b) => a.index - b.index);
  return { success: true, accepted, duplicates, skipped, rejected };
}
