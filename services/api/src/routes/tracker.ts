import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SITE_KEY_TYPES } from '@sluice/schemas';
import type { CaptureConfig } from '@sluice/schemas';
import { TouchpointConflictError, validateBatch } from '@sluice/touchpoint-log';
import type { RawItem } from '@sluice/touchpoint-log';
import { trackerScript } from '@sluice/tracker';
import { ProblemError } from '../problem.js';
import type { CaptureRejects } from './capture-rejects.js';
import { acceptEvents, conflictProblem } from './ingest.js';
import type { EventSink } from './ingest.js';

/**
 * The browser door: GET /sluice.js (the tracker, with capture.tracker's
 * settings) and POST /v1/collect?key=<site key>, where it sends its events.
 * A site key is public (it is in the page), so what it may do is bounded
 * here: web touchpoint types only, from its configured origins only (CORS
 * answers name only those; any other Origin is refused before anything is
 * read), at a rate per key and client address, with crawler and headless
 * traffic dropped or flagged, and no client address stored unless
 * configured. Valid batches go the way of POST /v1/events (acceptEvents):
 * atomic, idempotent by event id.
 */
export interface TrackerRouteOptions {
  sink: EventSink;
  capture: CaptureConfig;
  rejects: CaptureRejects;
  maxEvents: number;
  /** the clock of the rate limiter (tests give one) */
  now?: () => number;
}

/** Known crawlers and automation: what the tracker's bot setting drops or flags. */
export const BOT_USER_AGENT = /bot\b|bot\/|crawl|spider|slurp|bingpreview|facebookexternalhit|headlesschrome|phantomjs|puppeteer|playwright|lighthouse|python-requests|go-http-client|curl\/|wget/i;

const SITE_TYPES: ReadonlySet<string> = new Set(SITE_KEY_TYPES);

/**
 * Token buckets per site key and client address: `burst` requests at once,
 * refilled at `perMinute`. Full buckets are forgotten when many are held, so
 * a spread of addresses cannot grow the map without bound.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly limit: { perMinute: number; burst: number },
    private readonly now: () => number,
  ) {}

  /** undefined when allowed; else the seconds until a request would be */
  take(key: string): number | undefined {
    const now = this.now();
    const refill = this.limit.perMinute / 60_000;
    const held = this.#buckets.get(key);
    const tokens = held === undefined ? this.limit.burst : Math.min(this.limit.burst, held.tokens + (now - held.at) * refill);
    if (tokens < 1) {
      this.#buckets.set(key, { tokens, at: now });
      return Math.ceil((1 - tokens) / refill / 1000);
    }
    this.#buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.#buckets.size > 100_000) this.#forgetFull(now, refill);
    return undefined;
  }

  #forgetFull(now: number, refill: number): void {
    for (const [key, b] of this.#buckets) if (b.tokens + (now - b.at) * refill >= this.limit.burst) this.#buckets.delete(key);
  }
}

const CollectAnswer = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  dropped: z.number().int().describe('events from a crawler or headless browser, dropped as capture.site.bots says'),
});

export const trackerRoutes: FastifyPluginAsync<TrackerRouteOptions> = async (app, { sink, capture, rejects, maxEvents, now = Date.now }) => {
  const script = trackerScript({ ...capture.tracker, channels: capture.channels, types: SITE_KEY_TYPES });
  const limiter = new RateLimiter(capture.site.rateLimit, now);
  const site = capture.site;

  // text/plain: what sendBeacon and a fetch without a preflight send; taken only here, with a site key and an allowed Origin
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (request, body, done) => app.getDefaultJsonParser('error', 'ignore')(request, body as string, done));

  app.get('/sluice.js', {
    schema: {
      summary: 'The browser tracker',
      description: 'Add it with <script async src="<this server>/sluice.js" data-key="<site key>"></script>. Dependency-free; its settings come from capture.tracker and capture.channels.',
      produces: ['text/javascript'],
      response: { 200: z.string().describe('the script') },
    },
    handler: async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(script),
  });

  /** The Origin must be one of the key's: answered with CORS headers for it, refused otherwise (no CORS headers, so the page cannot read why). */
  const allowOrigin = (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    const key = request.siteKey!;
    if (origin === undefined || !key.origins.includes(origin)) {
      throw new ProblemError(403, 'origin-not-allowed', 'Origin not allowed', `the site key "${key.name}" may be used from ${key.origins.join(', ')}; this request came from ${origin ?? 'no origin'}`);
    }
    void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
  };

  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.options('/v1/collect', {
    config: { scope: 'site' },
    // a browser's own question before a cross-origin request, not an operation of the API
    schema: { hide: true, querystring: z.object({ key: z.string() }) },
    handler: async (request, reply) => {
      allowOrigin(request, reply);
      return reply.code(204).header('access-control-allow-methods', 'POST').header('access-control-allow-headers', 'content-type').header('access-control-max-age', '600').send();
    },
  });

  typed.post('/v1/collect', {
    config: { scope: 'site' },
    schema: {
      summary: "The tracker's events, under a site key",
      description:
        `A JSON array of Sluice events (text/plain or application/json), at most ${maxEvents}, of the types a site key may write: ${SITE_KEY_TYPES.join(', ')}. ` +
        'Atomic and idempotent like POST /v1/events. 403 for an Origin the key does not list or another type; 429 with Retry-After past the rate per key and address.',
      querystring: z.object({ key: z.string().describe('the site key (data-key of the script tag)') }),
      body: z.array(z.record(z.string(), z.unknown())),
      consumes: ['text/plain', 'application/json'],
      response: { 200: CollectAnswer },
    },
    handler: async (request, reply) => {
      const items = request.body;
      if (items.length === 0) throw new ProblemError(400, 'empty-batch', 'Empty batch', 'the batch holds no events');
      allowOrigin(request, reply);
      const wait = limiter.take(`${request.siteKey!.name}\u0000${request.ip}`);
      if (wait !== undefined) {
        rejects.count('site', 'rate_limited', items.length);
        void reply.header('retry-after', String(wait));
        throw new ProblemError(429, 'rate-limited', 'Too many requests', `the site key "${request.siteKey!.name}" allows ${site.rateLimit.perMinute} requests a minute (bursts of ${site.rateLimit.burst}) per client address; retry after ${wait} s`);
      }
      if (items.length > maxEvents) throw new ProblemError(413, 'too-many-events', 'Too many events', `the batch holds ${items.length} events; the limit is ${maxEvents} per request`);
      const refused = items.flatMap((item, index) => (SITE_TYPES.has(String(item.type)) ? [] : [{ index, field: 'type', message: `a site key may write ${SITE_KEY_TYPES.join(', ')}, not ${JSON.stringify(item.type)}` }]));
      if (refused.length > 0) throw new ProblemError(403, 'type-not-allowed', 'Type not allowed for a site key', `${refused.length} of ${items.length} events are of a type a site key may not write; nothing was written`, refused);
      const bot = BOT_USER_AGENT.test(request.headers['user-agent'] ?? '');
      if (bot && site.bots === 'drop') {
        rejects.count('site', 'bot_dropped', items.length);
        return { accepted: 0, duplicates: 0, dropped: items.length };
      }
      const marks = { ...(bot ? { bot: true } : {}), ...(site.storeClientAddress ? { clientAddress: request.ip } : {}) };
      const raw: RawItem[] = items.map((value) => ({ value: Object.keys(marks).length === 0 ? value : withExtensions(value, marks) }));
      const validation = validateBatch(raw);
      if (!validation.ok) {
        const byItem = new Map<number, typeof validation.issues>();
        for (const issue of validation.issues) byItem.set(issue.index, [...(byItem.get(issue.index) ?? []), issue]);
        for (const [index, issues] of byItem) {
          const id = items[index]?.id;
          rejects.reject({ door: 'site', index, ...(typeof id === 'string' ? { messageId: id } : {}), issues: issues.map(({ field, message }) => ({ field, message })), item: items[index] });
        }
        throw new ProblemError(400, 'invalid-events', 'Invalid events', `${validation.invalidItems} of ${items.length} events are invalid; nothing was written`, validation.issues);
      }
      const outcome = await acceptEvents(sink, validation.events, reply).catch((err: unknown) => {
        if (err instanceof TouchpointConflictError) throw conflictProblem(err, raw);
        throw err;
      });
      const { accepted, duplicates } = outcome.kind === 'appended' ? outcome.result : { accepted: validation.events.length, duplicates: 0 };
      rejects.count('site', 'accepted', accepted);
      rejects.count('site', 'duplicate', duplicates);
      return { accepted, duplicates, dropped: 0 };
    },
  });
};

function withExtensions(event: Record<string, unknown>, marks: Record<string, unknown>): Record<string, unknown> {
  const properties = typeof event.properties === 'object' && event.properties !== null ? (event.properties as Record<string, unknown>) : {};
  const x = typeof properties.x === 'object' && properties.x !== null ? properties.x : {};
  return { ...event, properties: { ...properties, x: { ...x, ...marks } } };
}
