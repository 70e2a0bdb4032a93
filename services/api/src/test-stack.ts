import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAnalyticsClient, migrate, runTouchpointSink, syncStageTables } from '@sluice/analytics';
import type { AnalyticsClient } from '@sluice/analytics';
import type { Follower } from '@sluice/follower';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { openProjectionStore, stageStateSource, startProjector } from '@sluice/projector';
import { type RuleConfig, type SluiceEvent, parseEvent } from '@sluice/schemas';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildApp, DEFAULT_LIMITS } from './app.js';
import type { Projections } from './routes/projections.js';

/**
 * The real components an API route test runs against, in a temporary
 * directory: the SQLite event store, embedded chDB (migrated) with the
 * touchpoint sink following the store and, given rules, the projector over
 * its own read models. Test-only.
 *
 * chDB binds one data directory per process: a file opens one stack (vitest
 * runs each file in its own forked worker).
 */
export interface TestStack {
  dir: string;
  store: EventStore;
  client: AnalyticsClient;
  sink: Follower;
  /** Set when opened with rules: the read models as buildApp takes them. */
  read?: Projections;
  /** Waits for the projector to take in the log, then writes its stages to ClickHouse's stage tables. */
  catchUp(): Promise<void>;
  close(): Promise<void>;
}

export async function openTestStack(name: string, rules?: RuleConfig): Promise<TestStack> {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  const store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const client = createAnalyticsClient({ dataPath: dir });
  await migrate(client);
  const sink = await runTouchpointSink(store, client);
  let read: Projections | undefined;
  if (rules) {
    const projections = openProjectionStore(join(dir, 'projections.sqlite'));
    read = { projections, projector: startProjector({ store, projections, config: rules }), config: rules };
  }
  return {
    dir,
    store,
    client,
    sink,
    ...(read ? { read } : {}),
    async catchUp() {
      if (!read) throw new Error('this stack has no projector: open it with rules');
      await read.projector.caughtUp();
      await syncStageTables(stageStateSource(read.projections), client);
    },
    async close() {
      await sink.stop();
      if (read) {
        await read.projector.stop();
        read.projections.close();
      }
      await client.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An opportunity event as a producer sends it (of account acme unless given). */
export const sentDeal = (id: string, type: string, occurredAt: string, properties: Record<string, unknown>, accountId = 'acme') => ({ id, type, occurredAt, accountId, properties });

/** The events `sent` as the API takes them in: what a test hands the pure folds to compare with a route's answer. */
export function parsedEvents(sent: readonly unknown[]): SluiceEvent[] {
  return sent.map((e) => {
    const parsed = parseEvent(e);
    if (!parsed.ok) throw new Error(`test event is invalid: ${JSON.stringify(parsed.issues)}`);
    return parsed.event;
  });
}

/**
 * For a route test file over analytics: before its tests, a stack named
 * `name` and the app over it with `rules` and no API keys, with `sent`
 * posted to /v1/events (all of it accepted); after them, both closed.
 */
export function appWithSent(name: string, rules: RuleConfig, sent: readonly unknown[]): { readonly app: FastifyInstance } {
  let stack: TestStack | undefined;
  let app: FastifyInstance | undefined;
  beforeAll(async () => {
    stack = await openTestStack(name);
    const { store, client, sink } = stack;
    app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], analytics: { client, sink, rules } });
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: sent });
    expect(res.statusCode, res.body).toBe(200);
  });
  afterAll(async () => {
    await app?.close();
    await stack?.close();
  });
  return {
    get app() {
      if (app === undefined) throw new Error('appWithSent() is only available inside the tests of its file');
      return app;
    },
  };
}
