import { opportunityStream } from '@sluice/domain';
import type { RecordedEvent } from '@sluice/event-store';
import { opportunityJourneys } from '@sluice/revenue';
import { MAX_TICK, streamArb, tickMs } from '@sluice/revenue/testing';
import type { SluiceEvent } from '@sluice/schemas';
import { parseEvent } from '@sluice/schemas';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { opportunityJourneysBefore } from './opportunity-journeys.js';
import { applyTouchpointBatch } from './sink.js';
import { testBackends } from './test-backends.js';

/*
 * ClickHouse's opportunity journeys (opportunityJourneysBefore) against the
 * reference, @sluice/revenue's opportunityJourneys, on generated logs: the
 * revenue package's random opportunity streams (out of order, before their
 * creation, after a close, second creations, redeliveries) beside visits of
 * the accounts' people with and without a source, some at the same instant.
 * Journeys are compared whole at several instants; the measures are the
 * same pure sums over journeys on both sides (@sluice/revenue). Each run's ids and accounts carry the run number, so runs
 * share the tables without mixing.
 */

const BATCHES = 4;
const RUNS_PER_BATCH = 25;
let position = 0;

const touchArb = fc.array(
  fc.record({ account: fc.integer({ min: 0, max: 3 }), tick: fc.integer({ min: 0, max: MAX_TICK }), source: fc.constantFrom(undefined, 'google', 'linkedin'), person: fc.constantFrom('l1', 'l2', undefined) }),
  { maxLength: 6 },
);

function touches(items: ReadonlyArray<{ account: number; tick: number; source: string | undefined; person: string | undefined }>): SluiceEvent[] {
  return items.map((t, i) => {
    const parsed = parseEvent({
      id: `v${i}`,
      type: 'visit',
      occurredAt: new Date(tickMs(t.tick)).toISOString(),
      ...(t.person === undefined ? { anonymousId: `anon-${i}` } : { leadId: t.person }),
      accountId: `acct-${t.account}`,
      ...(t.source === undefined ? {} : { source: t.source }),
      properties: {},
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    return parsed.event;
  });
}

function delivered(events: readonly SluiceEvent[], run: number): { events: SluiceEvent[]; rows: RecordedEvent[] } {
  const renamed = events.map((e) => {
    const props = e.properties as { opportunityId?: string };
    return {
      ...e,
      id: `r${run}-${e.id}`,
      ...(e.accountId === undefined ? {} : { accountId: `r${run}-${e.accountId}` }),
      ...(e.leadId === undefined ? {} : { leadId: `r${run}-${e.leadId}` }),
      properties: props.opportunityId === undefined ? e.properties : { ...e.properties, opportunityId: `r${run}-${props.opportunityId}` },
    } as SluiceEvent;
  });
  const rows = renamed.map((e) => {
    const opportunityId = (e.properties as { opportunityId?: string }).opportunityId;
    return { position: ++position, streamId: opportunityId === undefined ? `lead-${e.id}` : opportunityStream(opportunityId), revision: 0, id: e.id, type: e.type, data: e, recordedAt: '2026-06-01T00:00:00.000Z' };
  });
  return { events: renamed, rows };
}

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`opportunity journeys and their measures, ClickHouse vs the reference (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
      await backend.reset(client);
    });
    afterAll(() => backend.close());

    it('given random logs, then the journeys from ClickHouse equal the reference at every instant', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(streamArb, touchArb), { minLength: RUNS_PER_BATCH, maxLength: RUNS_PER_BATCH }), async (batch) => {
          const runs = batch.map(([stream, visits]) => ({ run: ++run, ...delivered([...stream, ...touches(visits)], run) }));
          await applyTouchpointBatch(client, runs.flatMap((r) => r.rows));
          for (const tick of [5, 17, 30, MAX_TICK + 1]) {
            for (const beforeMs of [tickMs(tick), tickMs(tick) + 1]) {
              const fromClickHouse = await opportunityJourneysBefore(client, beforeMs);
              for (const { run, events } of runs) {
                const mine = fromClickHouse.filter((j) => j.opportunityId.startsWith(`r${run}-`));
                const reference = opportunityJourneys(events, beforeMs);
                expect(mine).toEqual(reference);
              }
            }
          }
        }),
        { numRuns: BATCHES },
      );
    });
  });
}
