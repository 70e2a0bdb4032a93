import { describe, expect, it } from 'vitest';
import { InFlightLimit } from './in-flight.js';

describe('InFlightLimit', () => {
  it('given the bound reached, then the next batch pauses its partition until room is released, and resumes it before going on', async () => {
    const limit = new InFlightLimit(10);
    const log: string[] = [];
    const pause = (name: string) => () => {
      log.push(`pause ${name}`);
      return () => log.push(`resume ${name}`);
    };
    const releaseA = await limit.acquire(6, pause('a'));
    const b = limit.acquire(6, pause('b')).then((release) => (log.push('b runs'), release));
    await Promise.resolve();
    expect([limit.current, log]).toEqual([6, ['pause b']]);
    releaseA();
    const releaseB = await b;
    expect([limit.current, log]).toEqual([6, ['pause b', 'resume b', 'b runs']]);
    releaseB();
    expect(limit.current).toBe(0);
  });

  it('given a batch larger than the whole bound, then it runs alone rather than never', async () => {
    const limit = new InFlightLimit(10);
    const release = await limit.acquire(25, () => () => undefined);
    expect(limit.current).toBe(25);
    release();
  });
});
