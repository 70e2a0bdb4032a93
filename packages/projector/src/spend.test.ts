import { describe, expect, it } from 'vitest';
import { contentHash } from './index.js';
import { eventsFor, isoAt } from './test-support.js';
import { journeyProjections } from './test-stores.js';

describe('spend in the log', () => {
  const project = journeyProjections();

  it('given spend rows around a journey, when projected, then they sit in streams of their own and move no read model', async () => {
    const plain = await project('plain');
    const spent = await project('spent', (journey) => {
      const spend = eventsFor({}, 'spend');
      const period = { amount: 500, currency: 'EUR', periodStart: isoAt(0), periodEnd: isoAt(7) };
      return [spend('spend', isoAt(1), period, { source: 'google' }), ...journey, spend('spend', isoAt(8), period, { source: 'bing' })];
    });
    expect(spent.streams.filter((s) => s.startsWith('spend-'))).toEqual(['spend-google', 'spend-bing']);
    expect(spent.position).toBe(plain.position + 2);
    expect(contentHash(spent.projections)).toBe(contentHash(plain.projections));
  });
});
