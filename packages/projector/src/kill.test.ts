import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contentHash, openProjectionStore, rebuild } from './index.js';
import { appendAll, childSkipReason, demoEvents, demoRules, openEventStore, runFixture, tempDir } from './test-support.js';

const projectorScript = fileURLToPath(new URL('./fixtures/project-until-killed.ts', import.meta.url));

if (childSkipReason) console.warn(`projector kill test skipped: ${childSkipReason}`);

/** Runs the projector in a child process; SIGKILLs it after `flushes` committed flushes (never, when undefined). */
const runProjector = (eventsPath: string, projectionsPath: string, flushes?: number) =>
  runFixture(projectorScript, [eventsPath, projectionsPath], flushes === undefined ? undefined : { prefix: 'flushed', count: flushes });

describe.skipIf(childSkipReason)('projector under kill -9', () => {
  it('given a projector killed mid-replay (twice), when it restarts, then the read models equal a clean run', async () => {
    const tmp = tempDir('sluice-projector-kill-');
    try {
      const eventsPath = tmp.path('events.sqlite');
      const store = await openEventStore(eventsPath);
      await appendAll(store, demoEvents(12_000, 9));
      const clean = openProjectionStore(tmp.path('clean.sqlite'));
      await rebuild({ store, projections: clean, config: demoRules() });
      const expected = contentHash(clean);
      clean.close();
      await store.close();

      const projectionsPath = tmp.path('projections.sqlite');
      const first = await runProjector(eventsPath, projectionsPath, 4);
      const second = await runProjector(eventsPath, projectionsPath, 9);
      expect([first.killed, second.killed]).toEqual([true, true]);
      const killedAt = (run: { lines: string[] }) => Number(run.lines.filter((l) => l.startsWith('flushed')).at(-1)!.split(' ')[1]);
      // the second run resumed from the first one's checkpoint, not from the start
      expect(killedAt(second)).toBeGreaterThan(killedAt(first));

      const last = await runProjector(eventsPath, projectionsPath);
      expect(last.lines.at(-1)).toBe('caught-up');
      const restarted = openProjectionStore(projectionsPath);
      expect(contentHash(restarted)).toBe(expected);
      restarted.close();
    } finally {
      tmp.remove();
    }
  });
});
