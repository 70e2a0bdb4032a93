import type { EventStore } from '@sluice/event-store';
import type { FollowerFailure } from '@sluice/follower';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Projection } from './engine/projection.js';
import { contentHash, getLead, leadTransitions, liveConversion, listLeads, openProjectionStore, rebuild, startProjector } from './index.js';
import { type ProjectionStore, bindConfig } from './store/projection-store.js';
import { type TempDir, appendAll, demoEvents, demoRules, eventsFor, isoAt, openEventStore, stitchedJourney, tempDir } from './test-support.js';

const rules = demoRules();

describe('projection', () => {
  let tmp: TempDir;
  let store: EventStore;
  const opened: ProjectionStore[] = [];
  const projections = (name: string) => {
    const p = openProjectionStore(tmp.path(`${name}.sqlite`));
    opened.push(p);
    return p;
  };

  beforeEach(async () => {
    tmp = tempDir();
    store = await openEventStore(tmp.path('events.sqlite'));
  });
  afterEach(async () => {
    for (const p of opened.splice(0)) p.close();
    await store.close();
    tmp.remove();
  });

  it('given anonymous visits before identify, when projected, then they count for the lead and the anonymous history counts for nothing on its own', async () => {
    await appendAll(store, stitchedJourney());
    const p = projections('live');
    await rebuild({ store, projections: p, config: rules });

    const lead = (await getLead({ projections: p }, 'L1'))!;
    expect(lead.stages.map((s) => [s.stage, s.at, s.skipped])).toEqual([
      ['visitor', isoAt(0), false],
      ['lead', isoAt(2), false],
      ['mql', isoAt(4), true],
      ['sql', isoAt(4), false],
    ]);
    expect(lead).toMatchObject({ stage: 'sql', businessUnit: 'enterprise', touchpoints: 7, attribution: { source: 'google', channel: 'paid_search' } });
    expect(lead.firstTouchAt).toBe(isoAt(0));
    expect(leadTransitions(p, 'L1').map((t) => [t.from, t.to, t.rule])).toEqual([
      [null, 'visitor', 'visitor.touch'],
      ['visitor', 'lead', 'lead.contact'],
      ['lead', 'mql', 'sql.demo_request'],
      ['mql', 'sql', 'sql.demo_request'],
    ]);
    // the anonymous subject is merged: listed nowhere, no transitions, no counts
    expect(listLeads(p, { kind: 'anonymous' }).items).toEqual([]);
    expect(p.db.prepare("SELECT merged_into FROM leads WHERE subject = 'anon-v1'").pluck().get()).toBe('L1');
    expect(p.db.prepare("SELECT lead_id FROM identity_links WHERE anonymous_id = 'v1'").pluck().get()).toBe('L1');

    const march = liveConversion(p, { period: 'month', pairs: 'from_first', groupBy: ['businessUnit', 'source'] });
    expect(march.rows.map((r) => [r.from, r.to, r.period, r.businessUnit, r.source, r.entered, r.converted, r.avgMs])).toEqual([
      ['visitor', 'lead', '2026-03-01', 'enterprise', 'google', 1, 1, 2 * 86_400_000],
      ['visitor', 'mql', '2026-03-01', 'enterprise', 'google', 1, 1, 4 * 86_400_000],
      ['visitor', 'sql', '2026-03-01', 'enterprise', 'google', 1, 1, 4 * 86_400_000],
      ['visitor', 'customer', '2026-03-01', 'enterprise', 'google', 1, 0, null],
    ]);
    expect(liveConversion(p, { period: 'week', pairs: [{ from: 'mql', to: 'sql' }] }).rows).toEqual([
      { pair: 0, from: 'mql', to: 'sql', period: '2026-03-02', periodLabel: '2026-W10', entered: 1, converted: 1, rate: 1, skippedFrom: 1, avgMs: 0 },
    ]);
  });

  it('given an older event arriving last, when projected, then the read models equal those of the in-order log', async () => {
    const journey = stitchedJourney();
    const e = eventsFor({ leadId: 'L1' }, 'late');
    // a disqualification dated before the demo request: in order, the lead never reaches MQL/SQL
    const late = e('disqualified', isoAt(3, 30), { reason: 'spam' });
    const inOrder = [...journey.slice(0, 6), late, journey[6]!];

    const otherDir = tempDir();
    try {
      const inOrderStore = await openEventStore(otherDir.path('events.sqlite'));
      await appendAll(inOrderStore, inOrder);
      const expected = projections('in-order');
      await rebuild({ store: inOrderStore, projections: expected, config: rules });
      await inOrderStore.close();

      // the live projector saw the demo request (SQL) first; the older disqualification arrives after it
      await appendAll(store, journey);
      const live = projections('live');
      const projector = startProjector({ store, projections: live, config: rules, batchSize: 3 });
      await projector.caughtUp();
      expect((await getLead({ projections: live }, 'L1'))!.stage).toBe('sql');
      await appendAll(store, [late]);
      await projector.caughtUp();
      await projector.stop();

      expect((await getLead({ projections: live }, 'L1'))!.stage).toBe('lead');
      expect(contentHash(live)).toBe(contentHash(expected));
    } finally {
      otherDir.remove();
    }
  });

  it('given everything delivered twice, when projected, then the read models equal a single delivery', async () => {
    await appendAll(store, demoEvents(3000));
    const once = projections('once');
    await rebuild({ store, projections: once, config: rules });

    // each batch delivered twice in a row, flushing in between
    const twice = projections('twice');
    bindConfig(twice, rules);
    const projection = new Projection({ projections: twice, store, config: rules, cacheSize: 1000, recordChanges: false });
    const log = await store.readAll();
    for (let i = 0; i < log.length; i += 250) {
      const batch = log.slice(i, i + 250);
      await projection.apply(batch);
      projection.flush();
      await projection.apply(batch);
      projection.flush();
    }
    expect(contentHash(twice)).toBe(contentHash(once));

    // the whole log again over finished read models (a checkpoint lost after its effects were written)
    twice.db.prepare('UPDATE projection_state SET position = 0').run();
    const again = startProjector({ store, projections: twice, config: rules, batchSize: 200, flushEvery: 600, cacheSize: 50 });
    await again.caughtUp();
    await again.stop();
    expect(contentHash(twice)).toBe(contentHash(once));
  });

  it('given a cache far smaller than the log, when subjects are evicted and come back, then the read models equal those built in memory', async () => {
    await appendAll(store, demoEvents(4000, 5));
    const roomy = projections('roomy');
    await rebuild({ store, projections: roomy, config: rules });
    const cramped = projections('cramped');
    await rebuild({ store, projections: cramped, config: rules, cacheSize: 5, batchSize: 97, flushEvery: 300 });
    expect(contentHash(cramped)).toBe(contentHash(roomy));
  });

  it('given read models built under other rules or from another log, when the projector starts, then it refuses until they are rebuilt', async () => {
    await appendAll(store, stitchedJourney());
    const p = projections('live');
    await rebuild({ store, projections: p, config: rules });
    const changed = demoRules('demo-rules-2');
    expect(() => startProjector({ store, projections: p, config: changed })).toThrow(/built under rules demo-rules-1/);
    await rebuild({ store, projections: p, config: changed });
    const projector = startProjector({ store, projections: p, config: changed });
    await projector.caughtUp();
    await projector.stop();
    expect((await getLead({ projections: p }, 'L1'))!.configVersion).toBe('demo-rules-2');

    const otherDir = tempDir();
    try {
      const emptyLog = await openEventStore(otherDir.path('events.sqlite'));
      const retries: FollowerFailure[] = [];
      const stray = startProjector({ store: emptyLog, projections: p, config: changed, onRetry: (failure) => retries.push(failure) });
      await expect(stray.caughtUp()).rejects.toThrow(/built from another log/);
      await vi.waitFor(() => expect(stray.status()).toMatchObject({ state: 'retrying', failure: { reason: expect.stringMatching(/built from another log/) } }));
      await stray.stop();
      expect(retries[0]!.reason).toMatch(/built from another log/);
      await emptyLog.close();
    } finally {
      otherDir.remove();
    }
  });
});
