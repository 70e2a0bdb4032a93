import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymousStream } from '@sluice/domain';
import { openSqliteEventStore } from '@sluice/event-store';
import { runSluice } from '../test-support.js';
import { formatStatus } from './status.js';

let dir: string;
const sluice = (...args: string[]) => runSluice([...args, '--data-dir', join(dir, 'data')]);
const json = (...args: string[]) => {
  const run = sluice(...args, '--json');
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-status-'));
  mkdirSync(join(dir, 'data'));
  // straight into the log, past the API (which refuses it): an offset no zone has
  const store = await openSqliteEventStore({ path: join(dir, 'data', 'events.sqlite') });
  const visit = (id: string, occurredAt: string) => ({ streamId: anonymousStream('anon-s'), events: [{ id, type: 'visit', data: { occurredAt, anonymousId: 'anon-s' } }] });
  await store.append(visit('s-1', '2026-03-02T10:00:00+01:00'));
  await store.append(visit('s-bad', '2026-03-02T11:00:00+24:00'));
  await store.append(visit('s-2', '2026-03-02T12:00:00+01:00'));
  await store.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sluice status and sluice parked', () => {
  it('given an event the touchpoint sink parked, then `sluice parked` lists it with its reason and `sluice status` shows each position and the parked count', () => {
    // a query catches the data directory up: the bad event is parked, the one after it counted
    expect(json('query', 'funnel', '--steps', 'visit', '--from', '2026-03-01', '--to', '2026-04-01').steps[0].leads).toBe(1);

    const parked = json('parked');
    expect(parked).toContainEqual({ follower: 'touchpoints', position: 2, itemId: 's-bad', itemType: 'visit', reason: expect.stringMatching(/instant/), parkedAt: expect.any(String) });
    expect(json('parked', '--follower', 'touchpoints')).toHaveLength(1);
    expect(json('parked', '--follower', 'nobody')).toEqual([]);
    const text = sluice('parked');
    expect(text.stdout).toMatch(/^touchpoints\s+2\s+s-bad\s+visit\s+\S+\s+.*instant/m);
    expect(text.stdout).toContain('1 parked');

    // the read models were never built (a funnel reads the touchpoints alone): the projector at 0, the touchpoint sink at the head with its parked event
    expect(json('status')).toEqual({
      from: join(dir, 'data'),
      headPosition: 3,
      followers: [
        { name: 'projector', state: 'behind', position: 0, head: 3, lag: 3, parked: 0 },
        { name: 'touchpoints', state: 'caught_up', position: 3, head: 3, lag: 0, parked: 1 },
      ],
    });
  });

  it('given the read models and stage tables caught up, then status lists the projector and the stage tables too, and text reads as a table', () => {
    json('query', 'conversion', '--from', '2026-03-01', '--to', '2026-04-01');
    const status = json('status');
    expect(status.followers.map((f: { name: string; position: number; lag: number }) => [f.name, f.position, f.lag])).toEqual([
      ['projector', 3, 0],
      ['touchpoints', 3, 0],
      ['stage_tables', 3, 0],
    ]);
    expect(sluice('status').stdout.split('\n').slice(0, 5)).toEqual([
      `${join(dir, 'data')}; the log's head is position 3`,
      '',
      expect.stringMatching(/^follower\s+state\s+position\s+head\s+lag\s+parked$/),
      expect.stringMatching(/^-+/),
      expect.stringMatching(/^projector\s+caught up\s+3\s+3\s+0\s+\d+$/),
    ]);
  });

  it("words a server's answer: not ready, which follower and why", () => {
    const text = formatStatus({
      from: 'http://127.0.0.1:4780',
      headPosition: 130,
      ready: false,
      reasons: ['touchpoints is retrying (attempt 3, failing since 2026-12-07T10:00:00.000Z): connect ECONNREFUSED'],
      followers: [
        { name: 'projector', state: 'live', position: 130, head: 130, lag: 0, parked: 0 },
        { name: 'touchpoints', state: 'retrying', position: 120, head: 130, lag: 10, parked: 2, failure: { reason: 'connect ECONNREFUSED', since: '2026-12-07T10:00:00.000Z', attempts: 3 } },
      ],
    });
    expect(text).toBe(
      [
        "http://127.0.0.1:4780: not ready; the log's head is position 130",
        '',
        'follower     state     position  head  lag  parked',
        '-----------  --------  --------  ----  ---  ------',
        'projector    live           130   130    0       0',
        'touchpoints  retrying       120   130   10       2',
        '  touchpoints is retrying (attempt 3, failing since 2026-12-07T10:00:00.000Z): connect ECONNREFUSED',
        '',
        '2 items parked: `sluice parked` lists them with the reason',
        '',
      ].join('\n'),
    );
  });
});
