import type { EventStore } from '@sluice/event-store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentHash, openProjectionStore, rebuild } from './index.js';
import type { ProjectionStore } from './store/projection-store.js';
import { type TempDir, appendAll, demoRules, eventsFor, isoAt, openEventStore, stitchedJourney, tempDir } from './test-support.js';

describe('spend in the log', () => {
  let tmp: TempDir;
  const stores: EventStore[] = [];
  const opened: ProjectionStore[] = [];

  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(async () => {
    for (const p of opened.splice(0)) p.close();
    for (const s of stores.splice(0)) await s.close();
    tmp.remove();
  });

  const project = async (name: string, withSpend: boolean) => {
    const store = await openEventStore(tmp.path(`${name}.events.sqlite`));
    stores.push(store);
    const spend = eventsFor({}, 'spend');
    const period = { amount: 500, currency: 'EUR', periodStart: isoAt(0), periodEnd: isoAt(7) };
    const journey = stitchedJourney();
    await appendAll(store, withSpend ? [spend('spend', isoAt(1), period, { source: 'google' }), ...journey, spend('spend', isoAt(8), period, { source: 'bing' })] : journey);
    const projections = openProjectionStore(tmp.path(`${name}.sqlite`));
    opened.push(projections);
    const result = await rebuild({ store, projections, config: demoRules() });
    return { projections, position: result.position, streams: (await store.readAll({ after: 0, maxCount: 100 })).map((e) => e.streamId) };
  };

  it('given spend rows around a journey, when projected, then they sit in streams of their own and move no read model', async () => {
    const plain = await project('plain', false);
    const spent = await project('spent', true);
    expect(spent.streams.filter((s) => s.startsWith('spend-'))).toEqual(['spend-google', 'spend-bing']);
    expect(spent.position).toBe(plain.position + 2);
    expect(contentHash(spent.projections)).toBe(contentHash(plain.projections));
  });
});
