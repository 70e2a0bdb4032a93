import { describe, expect, it } from 'vitest';
import { type ChangeFeedItem, type DerivedChange, type Projector, lastChangeSeq, projectionMetrics, readChanges, rebuild, startProjector } from './index.js';
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
      for await (const c of projector.changes()) if (c.type !== 'changes_lost') received.push(c);
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

/** Everything a feed yields until it ends (the projector stopped: it ends after what is held). */
async function drain(feed: AsyncGenerator<ChangeFeedItem, void, undefined>): Promise<ChangeFeedItem[]> {
  const items: ChangeFeedItem[] = [];
  for await (const item of feed) items.push(item);
  return items;
}

/** [seq, type, lead or lost range]: what a follower must see, compactly. */
const outline = (items: readonly ChangeFeedItem[]) => items.map((c) => [c.seq, c.type, c.type === 'changes_lost' ? `${c.fromSeq}..${c.toSeq}` : c.leadId]);

describe('a feed trimmed past a follower', () => {
  const fresh = freshStores();
  // each lead's first visit is one change (null -> visitor), numbered in the order of the events
  const visits = (...leads: string[]) => leads.map((lead) => eventsFor({ leadId: lead }, lead)('visit', isoAt(0)));
  /** What a follower from now on gets when `lead` visits and the projector then stops. */
  const followNextVisit = async (projector: Projector, lead: string) => {
    const follower = drain(projector.changes());
    await appendAll(fresh.store, visits(lead));
    await projector.caughtUp();
    await projector.stop();
    return outline(await follower);
  };

  it('given changes 1..6 of which a retention of 3 keeps 4..6, when clients resume, then one behind the trim is told exactly what is lost before 4..6, one inside it and one up to date are not told', async () => {
    const { store, projections } = fresh;
    const projector = startProjector({ store, projections, config: rules, changeRetention: 3 });
    await appendAll(store, visits('L1', 'L2', 'L3', 'L4', 'L5'));
    await projector.caughtUp();
    // at 5 when 6 comes: 6 is held, nothing is lost to it
    expect(await followNextVisit(projector, 'L6')).toEqual([[6, 'stage_changed', 'L6']]);
    expect(readChanges(projections, 0).map((c) => c.seq)).toEqual([4, 5, 6]);

    const held = [
      [4, 'stage_changed', 'L4'],
      [5, 'stage_changed', 'L5'],
      [6, 'stage_changed', 'L6'],
    ];
    expect(outline(await drain(projector.changes(0)))).toEqual([[3, 'changes_lost', '1..3'], ...held]);
    expect((await drain(projector.changes(2)))[0]).toEqual({ seq: 3, type: 'changes_lost', fromSeq: 3, toSeq: 3 });
    // 3 was read, 4 is held: nothing lost
    expect(outline(await drain(projector.changes(3)))).toEqual(held);
  });

  it('given a live follower that read change 6, when one flush adds 7..11 and the retention of 3 keeps 9..11, then its next read is told 7..8 are lost, then gets 9..11', async () => {
    const { store, projections } = fresh;
    const projector = startProjector({ store, projections, config: rules, changeRetention: 3 });
    await appendAll(store, visits('L1', 'L2', 'L3', 'L4', 'L5'));
    await projector.caughtUp();
    const follower = projector.changes();
    const first = follower.next();
    await appendAll(store, visits('L6'));
    await projector.caughtUp();
    expect(outline([(await first).value as ChangeFeedItem])).toEqual([[6, 'stage_changed', 'L6']]);

    // the follower does not read again until after this flush
    await appendAll(store, visits('L7', 'L8', 'L9', 'L10', 'L11'));
    await projector.caughtUp();
    await projector.stop();
    expect(outline(await drain(follower))).toEqual([
      [8, 'changes_lost', '7..8'],
      [9, 'stage_changed', 'L9'],
      [10, 'stage_changed', 'L10'],
      [11, 'stage_changed', 'L11'],
    ]);
  });

  it('given a rebuild emptied the feed after changes 1..3, when a client at 1 resumes, then it is told 2..3 are lost, and a new client starts after 3', async () => {
    const { store, projections } = fresh;
    const before = startProjector({ store, projections, config: rules });
    await appendAll(store, visits('L1', 'L2', 'L3'));
    await before.caughtUp();
    await before.stop();
    await rebuild({ store, projections, config: rules });
    expect(readChanges(projections, 0)).toEqual([]);
    // the AUTOINCREMENT counter survives the rebuild's DELETE
    expect(lastChangeSeq(projections)).toBe(3);
    // nothing is held, so only the counter tells that 2..3 were given out
    expect(await drain(before.changes(1))).toEqual([{ seq: 3, type: 'changes_lost', fromSeq: 2, toSeq: 3 }]);

    const projector = startProjector({ store, projections, config: rules });
    await projector.caughtUp();
    expect(await followNextVisit(projector, 'L4')).toEqual([[4, 'stage_changed', 'L4']]);
  });
});
