import { mkdirSync, readdirSync } from 'node:fs';
import type { EventStore } from '@sluice/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayProgress } from './index.js';
import { WhatIfOutOfMemoryError, contentHash, openProjectionStore, rebuild, runWhatIfInWorker, whatIf } from './index.js';
import { type TempDir, appendAll, demoEvents, demoRules, openEventStore, tempDir } from './test-support.js';
import { sqliteStoreOpener } from './fixtures/sqlite-store-opener.js';

const live = demoRules('live-1');
/** MQL only on score, and a much higher bar: fewer MQLs, and SQLs reached by skipping MQL */
const strict = demoRules('strict-1', {
  stageModel: {
    id: 'strict',
    customerStage: 'customer',
    stages: [
      { id: 'visitor', name: 'Visitor', entry: [{ id: 'visitor.touch', when: { event: ['visit', 'page_view', 'ad_click', 'social_follow', 'email_click'] } }] },
      { id: 'lead', name: 'Lead', entry: [{ id: 'lead.contact', when: { event: ['identify', 'form_submit', 'content_download', 'webinar_registered', 'demo_requested'] } }] },
      { id: 'mql', name: 'MQL', entry: [{ id: 'mql.strict', when: { allOf: [{ score: 'fit', atLeast: 90 }, { score: 'engagement', atLeast: 80 }] } }] },
      { id: 'sql', name: 'SQL', entry: [{ id: 'sql.accepted', when: { event: 'sales_accepted' } }] },
      { id: 'customer', name: 'Customer', entry: [{ id: 'customer.paid', when: { event: ['payment', 'quote_accepted'] } }] },
    ],
  },
  sla: { startStage: 'mql' },
  pool: { noFollowUp: null, stalled: [] },
});

describe('what-if', () => {
  let tmp: TempDir;
  let store: EventStore;
  beforeAll(async () => {
    tmp = tempDir();
    store = await openEventStore(tmp.path('events.sqlite'));
    await appendAll(store, demoEvents(25_000, 8));
  });
  afterAll(async () => {
    await store.close();
    tmp.remove();
  });

  it('given a stricter MQL definition, when replayed side by side, then it reports fewer MQLs, the leads that would differ, and touches nothing live', async () => {
    const projections = openProjectionStore(tmp.path('live.sqlite'));
    await rebuild({ store, projections, config: live });
    const liveHash = contentHash(projections);
    const liveState = projections.state();

    const result = await whatIf({ store, live, candidate: strict, scratch: { dir: tmp.dir } });
    expect(result.position).toBe(await store.headPosition());
    const reached = (side: typeof result.live) => Object.fromEntries(side.stages.map((s) => [s.stage, s.reached]));
    expect(reached(result.candidate)['mql']).toBeLessThan(reached(result.live)['mql']!);
    expect(result.candidate.actors).toBe(result.live.actors);
    // the same as the live read models say
    const liveMql = projections.db.prepare("SELECT COUNT(*) FROM stage_transitions WHERE to_stage = 'mql'").pluck().get();
    expect(reached(result.live)['mql']).toBe(liveMql);
    const visitor = result.live.stages[0]!;
    expect(visitor.conversionFromPrevious).toBeNull();
    expect(result.live.stages[1]!.conversionFromPrevious).toBeCloseTo(result.live.stages[1]!.reached / visitor.reached, 12);

    expect(result.differences.count).toBeGreaterThan(0);
    expect(result.differences.actors.length).toBe(Math.min(result.differences.count, 1000));
    for (const d of result.differences.actors) expect(d.live).not.toBe(d.candidate);
    // a difference means a different furthest stage: spot-check one against the live model
    const first = result.differences.actors[0]!;
    expect(projections.db.prepare('SELECT stage FROM leads WHERE kind = ? AND id = ?').pluck().get(first.kind, first.id)).toBe(first.live);

    // nothing live was written, and no scratch file was left behind
    expect(contentHash(projections)).toBe(liveHash);
    expect(projections.state()).toEqual(liveState);
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith('sluice-whatif-'))).toEqual([]);
    projections.close();
  });

  it('given a window, when replayed in memory, then only actors first touched in [from, to) are compared, and equal rules differ nowhere', async () => {
    const window = { from: '2026-02-01T00:00:00+01:00', to: '2026-03-01T00:00:00+01:00' };
    const all = await whatIf({ store, live, candidate: demoRules('live-again') });
    const february = await whatIf({ store, live, candidate: demoRules('live-again'), window });
    expect(all.differences).toEqual({ count: 0, actors: [] });
    expect(february.differences.count).toBe(0);
    expect(february.window).toEqual({ from: '2026-01-31T23:00:00.000Z', to: '2026-02-28T23:00:00.000Z' });
    expect(february.live.actors).toBeGreaterThan(0);
    expect(february.live.actors).toBeLessThan(all.live.actors);
    expect(february.live.stages).toEqual(february.candidate.stages);
  });

  describe('in a worker thread', () => {
    // the worker opens <dataDir>/events.sqlite: the store above
    const inWorker = () => ({ store: { choice: { adapter: 'sqlite' as const }, dataDir: tmp.dir, opener: sqliteStoreOpener }, live, candidate: strict });
    const scratchLeft = () => readdirSync(tmp.dir).filter((f) => f.startsWith('sluice-whatif-'));

    it('given the same log and rules, then the worker answers what whatIf() answers in-process, with progress on the way', async () => {
      const progress: ReplayProgress[] = [];
      const fromWorker = await runWhatIfInWorker({ ...inWorker(), onProgress: (p) => progress.push(p) });
      const inProcess = await whatIf({ store, live, candidate: strict });
      expect({ ...fromWorker, seconds: 0 }).toEqual({ ...inProcess, seconds: 0 });
      expect(fromWorker.differences.count).toBeGreaterThan(0);
      const head = await store.headPosition();
      expect(progress.at(-1)).toEqual({ position: head, until: head, events: fromWorker.events });
      expect(scratchLeft()).toEqual([]);
    });

    it('given a signal aborted mid-replay, then the worker is stopped, the call rejects with the reason and no scratch is left', async () => {
      const abort = new AbortController();
      const reason = new Error('the client went away');
      const run = runWhatIfInWorker({ ...inWorker(), signal: abort.signal, onProgress: () => abort.abort(reason) });
      await expect(run).rejects.toBe(reason);
      expect(scratchLeft()).toEqual([]);
    });

    it('given a heap bound the worker outgrows, then it dies alone and the call fails with WhatIfOutOfMemoryError', async () => {
      const run = runWhatIfInWorker({ ...inWorker(), maxHeapMb: 4 });
      await expect(run).rejects.toThrow(WhatIfOutOfMemoryError);
      await expect(run).rejects.toMatchObject({ maxHeapMb: 4 });
      expect(scratchLeft()).toEqual([]);
    });

    it('given a store the worker cannot open, then the call fails with its error', async () => {
      const elsewhere = tempDir();
      try {
        mkdirSync(elsewhere.path('events.sqlite'));
        await expect(runWhatIfInWorker({ ...inWorker(), store: { choice: { adapter: 'sqlite' }, dataDir: elsewhere.dir, opener: sqliteStoreOpener } })).rejects.toMatchObject({
          message: expect.stringContaining(`cannot open ${elsewhere.path('events.sqlite')}`),
          code: 'SQLITE_FILE_UNUSABLE',
        });
      } finally {
        elsewhere.remove();
      }
    });
  });
});
