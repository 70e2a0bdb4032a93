import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Counter } from 'prom-client';
import { z } from 'zod';
import type { Metrics } from '../metrics.js';

/**
 * What the capture doors (the Segment endpoint, the tracker's collect route)
 * turned away item by item while answering the batch 200: their clients
 * retry on 5xx only, so a bad item is kept here with its reason instead of
 * failing the good ones beside it. Counted in /metrics
 * (sluice_capture_items_total); the newest `limit` are kept in memory, for
 * GET /v1/capture/rejected, until the process stops.
 */
export const RejectedItem = z.object({
  receivedAt: z.string().describe('when the server turned it away (server clock)'),
  door: z.enum(['segment', 'site']),
  index: z.number().int().describe('0-based index of the item in its request'),
  messageId: z.string().optional().describe("the item's messageId (Segment) or id (tracker), when it had one"),
  issues: z.array(z.object({ field: z.string(), message: z.string() })),
  item: z.unknown().describe('the item as sent, for a replay once fixed'),
});
export type RejectedItem = z.infer<typeof RejectedItem>;

export type CaptureOutcome = 'accepted' | 'duplicate' | 'rejected' | 'skipped' | 'bot_dropped' | 'rate_limited';

export class CaptureRejects {
  readonly #items: RejectedItem[] = [];
  #total = 0;
  readonly #counter: Counter<'door' | 'outcome'>;

  constructor(
    metrics: Metrics,
    private readonly limit: number,
  ) {
    this.#counter = new Counter({
      name: 'sluice_capture_items_total',
      help: 'Items the capture doors received (door: segment, site), by outcome: accepted, duplicate, rejected (kept in GET /v1/capture/rejected), skipped (unmapped track names when so configured), bot_dropped, rate_limited',
      labelNames: ['door', 'outcome'] as const,
      registers: [metrics.registry],
    });
  }

  count(door: RejectedItem['door'], outcome: CaptureOutcome, n = 1): void {
    if (n > 0) this.#counter.inc({ door, outcome }, n);
  }

  reject(item: Omit<RejectedItem, 'receivedAt'>): void {
    this.count(item.door, 'rejected');
    this.#total++;
    if (this.limit === 0) return;
    this.#items.push({ receivedAt: new Date().toISOString(), ...item });
    if (this.#items.length > this.limit) this.#items.shift();
  }

  list(): { total: number; kept: number; items: RejectedItem[] } {
    return { total: this.#total, kept: this.#items.length, items: [...this.#items].reverse() };
  }
}

export const captureRejectRoutes: FastifyPluginAsync<{ rejects: CaptureRejects }> = async (app, { rejects }) => {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/capture/rejected', {
    config: { scope: 'read' },
    schema: {
      summary: 'Items the Segment endpoint and the tracker turned away',
      description:
        'Newest first: each item a capture door answered 200 for but did not store, with the reasons (unknown track name, a field Sluice refuses, an id reused with other content). ' +
        'Kept in memory (capture.segment.deadLetterLimit of them) until the process stops; sluice_capture_items_total{outcome="rejected"} counts them all.',
      response: { 200: z.object({ total: z.number().int().describe('rejected since the process started'), kept: z.number().int(), items: z.array(RejectedItem) }) },
    },
    handler: async () => rejects.list(),
  });
};
