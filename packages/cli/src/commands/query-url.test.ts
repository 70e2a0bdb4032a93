import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, DEFAULT_LIMITS } from '@sluice/api';
import type { TestStack } from '../../../../services/api/src/test-stack.js';
import { openTestStack } from '../../../../services/api/src/test-stack.js';
import { runSluiceAsync } from '../test-support.js';

// a server (embedded chDB in this process) whose touchpoint sink is held behind, asked by the real CLI with --url
let stack: TestStack;
let app: Awaited<ReturnType<typeof buildApp>>;
let url: string;

beforeAll(async () => {
  stack = await openTestStack('cli-query-url');
  app = await buildApp({ store: stack.store, limits: DEFAULT_LIMITS, apiKeys: [], analytics: { client: stack.client, sink: stack.sink }, freshnessWaitMs: 0 });
  const visit = (id: string) => ({ id, type: 'visit', occurredAt: '2026-03-02T10:00:00+01:00', anonymousId: `anon-${id}` });
  await app.inject({ method: 'POST', url: '/v1/events', payload: [visit('u1')] });
  await stack.sink.caughtUp();
  await stack.sink.stop();
  await app.inject({ method: 'POST', url: '/v1/events', payload: [visit('u2')] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await app.close();
  await stack.close();
});

describe('sluice query --url', () => {
  it('given a server whose answer is behind the log, then the CLI prints the answer and says on stderr how far it counts', async () => {
    const run = await runSluiceAsync(['query', 'funnel', '--steps', 'visit', '--from', '2026-03-01', '--to', '2026-04-01', '--url', url, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const answer = JSON.parse(run.stdout);
    expect(answer.steps[0].leads).toBe(1);
    expect(answer.freshness).toEqual({ position: 1, head: 2, caughtUp: false });
    expect(run.stderr).toContain('sluice: the server is catching up: this answer counts the log up to position 1 of 2; ask again for whole numbers');
  });

  it("given funnel-leads with --url, then its step and page go in the API's query string and it lists the API's leads, as many as the funnel counts", async () => {
    const definition = { steps: [{ type: 'visit' }], window: { value: 30, unit: 'days' }, dateRange: { from: '2026-03-01T00:00:00+01:00', to: '2026-04-01T00:00:00+02:00' } };
    const api = await app.inject({ method: 'POST', url: '/v1/funnels/leads?stepIndex=0&limit=10', payload: definition });
    expect(api.statusCode, api.body).toBe(200);
    const run = await runSluiceAsync(['query', 'funnel-leads', '--steps', 'visit', '--from', '2026-03-01', '--to', '2026-04-01', '--step', '1', '--limit', '10', '--url', url, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const answer = JSON.parse(run.stdout);
    expect(answer.leads.map((l: { anonymousId: string }) => l.anonymousId)).toEqual(['anon-u1']);
    expect(answer.leads).toEqual(api.json().leads);
  });

  it("given a server with a follower stopped, then sluice status --url says it is not ready, which follower and why", async () => {
    const run = await runSluiceAsync(['status', '--url', url, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      from: url,
      headPosition: 2,
      ready: false,
      reasons: ['touchpoints stopped at position 1'],
      followers: [{ name: 'touchpoints', state: 'stopped', position: 1, head: 2, lag: 1, parked: 0 }],
    });
  });
});
