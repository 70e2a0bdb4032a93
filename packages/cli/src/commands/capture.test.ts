import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, DEFAULT_LIMITS } from '@sluice/api';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { runSluiceAsync } from '../test-support.js';

// a server whose Segment endpoint turned an item away, asked by the real CLI with --url
let dir: string;
let store: EventStore;
let app: Awaited<ReturnType<typeof buildApp>>;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-rejected-'));
  store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [] });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sluice rejected --url', () => {
  it('given a Segment batch with an unmapped track name, then the CLI lists it with the reason', async () => {
    const batch = [{ type: 'track', messageId: 'm-1', userId: 'lead-1', event: 'Button Clicked', timestamp: '2026-03-02T09:00:00Z' }];
    expect((await app.inject({ method: 'POST', url: '/segment/v1/batch', payload: { batch } })).json()).toMatchObject({ accepted: 0 });
    const run = await runSluiceAsync(['rejected', '--url', url]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('1 rejected since the server started; the newest 1:');
    expect(run.stdout).toMatch(/segment\s+m-1\s+event\s+track event "Button Clicked" is not in capture.segment.events/);
    const json = await runSluiceAsync(['rejected', '--url', url, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ total: 1, items: [{ door: 'segment', messageId: 'm-1' }] });
  });

  it('without --url it says where rejected items are kept, exit 2', async () => {
    const run = await runSluiceAsync(['rejected']);
    expect([run.code, run.stderr.trim()]).toEqual([2, 'sluice: sluice rejected needs --url URL: the running server that turned the items away keeps them (in memory)']);
  });
});
