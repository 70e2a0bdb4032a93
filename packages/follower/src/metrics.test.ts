import { describe, expect, it } from 'vitest';
import { startFollower } from './follower.js';
import { followerGauges, prometheusText } from './metrics.js';

interface Item {
  position: number;
  bad: boolean;
}

/** A follower of `count` items whose target refuses the bad ones (parked). */
function follower(name: string, items: Item[]) {
  return startFollower<Item>({
    name,
    pollIntervalMs: 5,
    source: { head: async () => items.length, read: async (after, max) => items.slice(after, after + max), positionOf: (i) => i.position },
    target: {
      unattributed: 'isolate',
      checkpoint: async () => 0,
      apply: async (batch) => {
        if (batch.some((i) => i.bad)) throw new Error('bad item');
        return batch.at(-1)!.position;
      },
      park: async (item) => item.position,
    },
  });
}

describe('follower gauges', () => {
  it("given followers, then each gauge has one value per follower: its position, lag, parked items and whether it is retrying, in Prometheus' text format", async () => {
    const items = Array.from({ length: 6 }, (_, i) => ({ position: i + 1, bad: i === 2 }));
    const a = follower('touchpoints', items);
    const b = follower('with "quotes"', items.slice(0, 2));
    await Promise.all([a.caughtUp(), b.caughtUp()]);
    const gauges = followerGauges([a, b]);
    expect(gauges.map((g) => [g.name, g.values.map((v) => `${v.follower}=${v.value}`)])).toEqual([
      ['sluice_follower_position', ['touchpoints=6', 'with "quotes"=2']],
      ['sluice_follower_lag_events', ['touchpoints=0', 'with "quotes"=0']],
      ['sluice_follower_parked_total', ['touchpoints=1', 'with "quotes"=0']],
      ['sluice_follower_retrying', ['touchpoints=0', 'with "quotes"=0']],
    ]);
    const text = prometheusText(gauges);
    expect(text).toContain('# TYPE sluice_follower_position gauge\nsluice_follower_position{follower="touchpoints"} 6\nsluice_follower_position{follower="with \\"quotes\\""} 2\n');
    await Promise.all([a.stop(), b.stop()]);
  });
});
