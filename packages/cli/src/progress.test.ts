import { afterEach, describe, expect, it, vi } from 'vitest';
import { CatchUpProgress } from './progress.js';

afterEach(() => vi.restoreAllMocks());

/** What the progress line wrote to stderr, a write at a time. */
function captured(): string[] {
  const writes: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    writes.push(String(chunk));
    return true;
  });
  return writes;
}

describe('the catch-up progress line', () => {
  it('given several followers, then the bar is their work together and the closing figure counts the log through every one of them', () => {
    const writes = captured();
    const progress = new CatchUpProgress('catching up', true);
    const touchpoints = progress.follow('touchpoints', 1_000, 0);
    const readModels = progress.follow('read models', 1_000, 600);
    // drawn at once (later draws wait 100 ms): 1,000 of the 1,400 positions to go are done
    touchpoints(1_000);
    const line = writes.at(-1)!;
    expect(line).toMatch(/^\rcatching up \[#+\.+\] {2}71% {2}[\d,]+ events\/s \(touchpoints 100%, read models 0%\)/);
    readModels(1_000);
    progress.done();
    expect(writes.at(-1)).toMatch(/^caught up 1,000 events in [\d.]+ (ms|s): [\d,]+ events\/s through touchpoints, read models\n$/);
  });

  it('says nothing past clearing its line when there was nothing to catch up, or after a failure', () => {
    const writes = captured();
    const idle = new CatchUpProgress('catching up', true);
    idle.follow('touchpoints', 500)(500);
    idle.done();
    const failed = new CatchUpProgress('catching up', true);
    failed.follow('touchpoints', 500)(0);
    failed.done(false);
    expect(writes.filter((w) => w.startsWith('caught up'))).toEqual([]);
  });
});
