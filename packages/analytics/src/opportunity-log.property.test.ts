import { opportunityStream } from '@sluice/domain';
import type { RecordedEvent } from '@sluice/event-store';
import { openFromFolded, pipelineAsOf, pipelineOf } from '@sluice/revenue';
import { MAX_TICK, model, streamArb, tickMs } from '@sluice/revenue/testing';
import type { SluiceEvent } from '@sluice/schemas';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { openOpportunitiesAsOf, readOpportunityEvents } from './opportunity-log.js';
import { applyTouchpointBatch } from './sink.js';
import { testBackends } from './test-backends.js';

/*
 * ClickHouse's fold of open opportunities (openOpportunitiesAsOf) against the
 * reference, @sluice/revenue's fold, on generated opportunity logs: events
 * out of order, before their creation, after a close, second creations,
 * stages the model lacks, probabilities given or not, and events delivered
 * twice (the sink is at-least-once). Each run's ids carry the run number, so
 * runs share the tables without mixing; the pipeline is compared whole at
 * instants on and between the events.
 */

const BATCHES = 4;
const RUNS_PER_BATCH = 25;
let position = 0;

function delivered(events: readonly SluiceEvent[], run: number): { events: SluiceEvent[]; rows: RecordedEvent[] } {
  const renamed = events.map((e) => ({ ...e, id: `r${run}-${e.id}`, properties: { ...e.properties, opportunityId: `r${run}-${(e.properties as { opportunityId: string }).opportunityId}` } }) as SluiceEvent);
  const rows = renamed.map((e) => ({
    position: ++position,
    streamId: opportunityStream((e.properties as { opportunityId: string }).opportunityId),
    revision: 0,
    id: e.id,
    type: e.type,
    data: e,
    recordedAt: '2026-06-01T00:00:00.000Z',
  }));
  return { events: renamed, rows };
}

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`open opportunities as of an instant, ClickHouse vs the revenue fold (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
      await backend.reset(client);
    });
    afterAll(() => backend.close());

    it('given random logs, then the pipeline from ClickHouse equals the fold of the same events at every instant', async () => {
      let run = 0;
      // a batch of logs per property run: one insert and one query per instant serve them all
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(streamArb, fc.constantFrom(null, 'stage', 'owner', 'segment' as const)), { minLength: RUNS_PER_BATCH, maxLength: RUNS_PER_BATCH }), async (batch) => {
          const runs = batch.map(([stream, groupBy]) => ({ run: ++run, groupBy, ...delivered(stream, run) }));
          await applyTouchpointBatch(client, runs.flatMap((r) => r.rows));
          const ofRun = (run: number) => (id: string) => id.startsWith(`r${run}-`);
          for (const tick of [0, 3, 10, 17, 25, 33, MAX_TICK + 1]) {
            for (const asOf of [tickMs(tick), tickMs(tick) + 1]) {
              const folded = await openOpportunitiesAsOf(client, asOf);
              for (const { run, groupBy, events } of runs) {
                const mine = folded.filter((f) => ofRun(run)(f.opportunityId));
                const fromClickHouse = pipelineOf(mine.map((f) => openFromFolded(f, asOf, model)), asOf, model, groupBy);
                expect(fromClickHouse).toEqual(pipelineAsOf(events, asOf, model, groupBy));
              }
            }
          }
          // the rows read back for the fold are the events as sent (the instant in UTC, each delivery a row)
          const readBack = await readOpportunityEvents(client, tickMs(MAX_TICK + 1));
          for (const { run, events } of runs) {
            expect(pipelineAsOf(readBack.filter((e) => ofRun(run)(e.id)), tickMs(20), model)).toEqual(pipelineAsOf(events, tickMs(20), model));
          }
        }),
        { numRuns: BATCHES },
      );
    });
  });
}
