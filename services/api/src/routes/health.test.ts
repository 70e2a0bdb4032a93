import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymousStream } from '@sluice/domain';
import { buildApp, DEFAULT_LIMITS } from '../app.js';
import type { TestStack } from '../test-stack.js';
import { openTestStack } from '../test-stack.js';

// embedded chDB: this file runs in its own forked worker (one data directory per process)
let stack: TestStack;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await openTestStack('health');
  app = await buildApp({ store: stack.store, limits: DEFAULT_LIMITS, apiKeys: [], analytics: { client: stack.client, sink: stack.sink } });
});

afterAll(async () => {
  await app.close();
  await stack.close();
});

const visit = (id: string, occurredAt = '2026-03-01T10:00:00+01:00') => ({ id, type: 'visit', occurredAt, anonymousId: 'anon-h' });
const readyz = () => app.inject({ method: 'GET', url: '/readyz' });
const metric = async (name: string) => {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  return Number(new RegExp(`^${name}\\{follower="touchpoints"\\} (\\d+)$`, 'm').exec(text)?.[1]);
};

describe('readiness and follower metrics', () => {
  it('given a follower at the head, then /readyz is 200 and lists it; /metrics has its position, lag, parked count and retrying flag', async () => {
    await app.inject({ method: 'POST', url: '/v1/events', payload: [visit('h1'), visit('h2')] });
    // an event the touchpoint sink cannot write, put into the log past the API (the API refuses it): parked, and the sink goes on
    await stack.store.append({ streamId: anonymousStream('anon-h'), events: [{ id: 'h-bad', type: 'visit', data: { ...visit('h-bad'), occurredAt: '2026-03-01T10:00:00+24:00' } }] });
    await app.inject({ method: 'POST', url: '/v1/events', payload: [visit('h3')] });
    await stack.sink.caughtUp();

    const res = await readyz();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ready',
      headPosition: 4,
      followers: [{ name: 'touchpoints', state: expect.stringMatching(/^(live|catching_up)$/), position: 4, head: 4, lag: 0, parked: 1 }],
    });
    expect(await metric('sluice_follower_position')).toBe(4);
    expect(await metric('sluice_follower_lag_events')).toBe(0);
    expect(await metric('sluice_follower_parked_total')).toBe(1);
    expect(await metric('sluice_follower_retrying')).toBe(0);
  });

  it('given ClickHouse unreachable for a while, then /readyz is 503 naming the follower and why while it retries, and 200 once it recovers, without a restart', async () => {
    const { client } = stack;
    const insert = client.insert;
    // TEST INJECTION: the real client object, its inserts failing as a ClickHouse server away does, until put back
    client.insert = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123 (injected by this test)'), { code: 'ECONNREFUSED' });
    };
    try {
      await app.inject({ method: 'POST', url: '/v1/events', payload: [visit('h4')] });
      while (stack.sink.status().state !== 'retrying') await new Promise((resolve) => setTimeout(resolve, 10));
      const down = await readyz();
      expect(down.statusCode).toBe(503);
      const body = down.json();
      expect(body.status).toBe('not ready');
      expect(body.reasons).toEqual([expect.stringMatching(/^touchpoints is retrying \(attempt \d+, failing since .+\): connect ECONNREFUSED 127\.0\.0\.1:8123/)]);
      expect(body.followers[0]).toMatchObject({ name: 'touchpoints', state: 'retrying', position: 4, lag: 1, failure: { reason: expect.stringContaining('ECONNREFUSED') } });
      expect(await metric('sluice_follower_retrying')).toBe(1);
      expect(await metric('sluice_follower_lag_events')).toBe(1);
    } finally {
      client.insert = insert;
    }
    await stack.sink.caughtUp();
    const up = await readyz();
    expect(up.statusCode).toBe(200);
    expect(up.json().followers).toEqual([{ name: 'touchpoints', state: expect.stringMatching(/^(live|catching_up)$/), position: 5, head: 5, lag: 0, parked: 1 }]);
    expect(await metric('sluice_follower_retrying')).toBe(0);
  });
});
