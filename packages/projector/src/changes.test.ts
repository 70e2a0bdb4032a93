import { describe, expect, it } from 'vitest';
import { type DerivedChange, projectionMetrics, readChanges, rebuild, startProjector } from './index.js';
import { appendAll, demoRules, eventsFor, isoAt } from './test-support.js';
import { freshStores } from './test-stores.js';

const rules = demoRules();

describe('derived changes and lag', () => {
  const fresh = freshStores();

  it('given a live projector, when a lead moves stage and heats up, then followers get the changes in order and a reconnecting one resumes after its last id', async () => {
    const { store, projections } = fresh;
    const e = eventsFor({ leadId: 'L1' }, 'L1');
    await appendAll(store, [e('visit', isoAt(0))]);
    const projector = startProjector({ store, projections, config: rules });
    await projector.caughtUp();

    const received: DerivedChange[] = [];
    const follower = (async () => {
      for await (const c of projector.changes()) received.push(c);
    })();
    await appendAll(store, [e('form_submit', isoAt(1), { formId: 'contact' })]);
    await projector.caughtUp();
    await appendAll(store, [e('demo_requested', isoAt(2)), e('webinar_attended', isoAt(2, 10), { webinarId: 'w' }), e('page_view', isoAt(2, 20), { url: 'https://x.example/pricing', pageType: 'pricing' })]);
    await projector.caughtUp();
    await projector.stop();
    await follower;

    expect(received.map((c) => [c.type, c.type === 'stage_changed' ? `${c.from}->${c.to}` : c.stage])).toEqual([
      ['stage_changed', 'visitor->lead'],
      ['stage_changed', 'lead->sql'],
      ['lead_hot', 'sql'],
    ]);
    expect(received[1]).toMatchObject({ leadId: 'L1', at: isoAt(2), rule: 'sql.demo_request', configVersion: 'demo-rules-1' });
    expect(received.map((c) => c.seq)).toEqual([...received.map((c) => c.seq)].sort((a, b) => a - b));

    // Last-Event-ID: everything after the first change, from the stored feed
    expect(readChanges(projections, received[0]!.seq)).toEqual(received.slice(1));
  });

  it('given a rebuild, when it replays history, then it records no changes', async () => {
    const { store, projections } = fresh;
    const e = eventsFor({ leadId: 'L1' }, 'L1');
    await appendAll(store, [e('visit', isoAt(0)), e('demo_requested', isoAt(1))]);
    await rebuild({ store, projections, config: rules });
    expect(readChanges(projections, 0)).toEqual([]);
  });

  it('given events the projector has not seen, when lag is read, then it counts them and their age, and the metrics report it', async () => {
    const { store, projections } = fresh;
    const e = eventsFor({ leadId: 'L1' }, 'L1');
    await appendAll(store, [e('visit', isoAt(0))]);
    const projector = startProjector({ store, projections, config: rules });
    await projector.caughtUp();
    expect(await projector.lag()).toEqual({ events: 0, seconds: 0 });
    await projector.stop();
    await appendAll(store, [e('visit', isoAt(1)), e('visit', isoAt(2))]);
    const lag = await projector.lag();
    expect(lag.events).toBe(2);
    expect(lag.seconds).toBeGreaterThanOrEqual(0);
    const metrics = await projectionMetrics(projector);
    expect(metrics.map((m) => [m.name, m.value])).toEqual([
      ['sluice_projection_position', 1],
      ['sluice_projection_lag_events', 2],
      ['sluice_projection_lag_seconds', metrics[2]!.value],
    ]);
  });

  it('given a follower waiting for changes, when it returns, then its loop ends at once without waiting for a flush', async () => {
    const { store, projections } = fresh;
    const projector = startProjector({ store, projections, config: rules });
    await projector.caughtUp();
    const changes = projector.changes();
    let ended = false;
    const loop = (async () => {
      for await (const _ of changes) void _;
      ended = true;
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ended).toBe(false);
    await changes.return(undefined);
    await loop;
    expect(ended).toBe(true);
    await projector.stop();
  });
});
