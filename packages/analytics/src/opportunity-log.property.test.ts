import { opportunityStream } from '@sluice/domain';
import type { RecordedEvent } from '@sluice/event-store';
import { answerWaterfallOfFolded, openFromFolded, pipelineAsOf, pipelineOf, waterfall, waterfallAnswer } from '@sluice/revenue';
import { MAX_TICK, model, streamArb, tickMs } from '@sluice/revenue/testing';
import type { SluiceEvent } from '@sluice/schemas';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { openOpportunitiesAsOf, opportunityGroupsAsOf, waterfallMovements } from './opportunity-log.js';
import { applyTouchpointBatch } from './sink.js';
import { testBackends } from './test-backends.js';

/*
 * ClickHouse's fold of open opportunities (openOpportunitiesAsOf) against the
 * reference, @sluice/revenue's fold, on generated opportunity logs: events
 * out of order, before their creation, after a close, second creations,
 * stages the model lacks, probabilities given or not, and events delivered
 * twice (the sink is at-least-once). Each run's ids carry the run number, so
 * runs share the tables without mixing; the pipeline is compared whole at
 * instants on and between the events, the waterfall over periods short and long.
 */

const BATCHES = 3;
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
  describe.skipIf(backend.skip)(`the pipeline and the waterfall, ClickHouse vs the revenue fold (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
      await backend.reset(client);
    });
    afterAll(() => backend.close());

    it('given random logs, then the pipeline and the waterfall from ClickHouse equal the fold of the same events', async () => {
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
          // the waterfall of a few periods: ClickHouse's movements, points and groups assembled as the fold assembles its own
          for (const [fromTick, toTick] of [[0, MAX_TICK + 1], [10, 25], [17, 18], [5, 33]] as const) {
            const [from, to] = [new Date(tickMs(fromTick)).toISOString(), new Date(tickMs(toTick) + 1).toISOString()];
            const [open, movements, groups] = [new Map<number, Awaited<ReturnType<typeof openOpportunitiesAsOf>>>(), await waterfallMovements(client, Date.parse(from), Date.parse(to)), await opportunityGroupsAsOf(client, Date.parse(to))];
            for (const at of [Date.parse(from), Date.parse(to)]) open.set(at, await openOpportunitiesAsOf(client, at));
            for (const { run, groupBy, events } of runs) {
              const mine = ofRun(run);
              const source = {
                openAsOf: async (at: number) => open.get(at)!.filter((o) => mine(o.opportunityId)),
                movements: async () => movements.filter((m) => mine(m.opportunityId)),
                groupsAsOf: async () => new Map([...groups].filter(([id]) => mine(id))),
              };
              const walkGroup = groupBy === 'stage' ? 'owner' : groupBy;
              expect(await answerWaterfallOfFolded({ from, to, ...(walkGroup === null ? {} : { groupBy: walkGroup }) }, source)).toEqual(
                waterfallAnswer(waterfall(events, Date.parse(from), Date.parse(to), model, walkGroup)),
              );
            }
          }
        }),
        { numRuns: BATCHES },
      );
    });
  });
}
