import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { StageConversionResult } from '@sluice/analytics';
import { appendAll, childSkipReason, demoEvents, openEventStore, runFixture, tempDir } from '../../packages/projector/src/test-support.js';
import type { StageRows } from './stage-rows.js';

/*
 * The projector and the stage-table sink in a real child process, killed
 * with SIGKILL twice mid-stream (each time after some pages were written,
 * wherever the signal lands: mid-insert, between a page and the checkpoint,
 * mid-flush), then run to the end: ClickHouse's stage tables and a stage
 * conversion answer equal those of a clean run in another data directory.
 */

const script = fileURLToPath(new URL('./fixtures/project-and-sink-until-killed.ts', import.meta.url));

if (childSkipReason) console.warn(`stage-table sink kill test skipped: ${childSkipReason}`);

interface Run {
  lines: string[];
  killed: boolean;
}

/** Runs the fixture; SIGKILLs it once it has written `pages` pages (never, when undefined). */
const run = (eventsPath: string, dataDir: string, pages?: number): Promise<Run> =>
  runFixture(script, [eventsPath, dataDir], pages === undefined ? undefined : { prefix: 'page ', count: pages });

const resultOf = (r: Run) => {
  const line = r.lines.find((l) => l.startsWith('result '));
  if (line === undefined) throw new Error(`no result in:\n${r.lines.join('\n')}`);
  return JSON.parse(line.slice('result '.length)) as { clickhouse: StageRows; projector: StageRows; conversion: StageConversionResult };
};

describe.skipIf(childSkipReason)('stage-table sink under kill -9', () => {
  it('given projector and sink killed mid-stream (twice), when restarted, then the ClickHouse stage tables and stage conversion equal a clean run', async () => {
    const tmp = tempDir('sluice-stage-sink-kill-');
    try {
      const eventsPath = tmp.path('events.sqlite');
      const store = await openEventStore(eventsPath);
      await appendAll(store, demoEvents(12_000, 9));
      await store.close();

      const cleanDir = tmp.path('clean');
      mkdirSync(cleanDir);
      const clean = resultOf(await run(eventsPath, cleanDir));
      expect(clean.clickhouse).toEqual(clean.projector);
      // enough to compare: thousands of actors (anonymous ones merged into leads among them) and every stage
      expect(clean.clickhouse.transitions.length).toBeGreaterThan(2000);
      expect(new Set(clean.clickhouse.transitions.map((t) => t.stage)).size).toBe(5);
      expect(clean.conversion.rows.some((r) => Number(r.converted) > 0)).toBe(true);

      const dataDir = tmp.path('killed');
      mkdirSync(dataDir);
      const first = await run(eventsPath, dataDir, 6);
      const second = await run(eventsPath, dataDir, 15);
      expect([first.killed, second.killed]).toEqual([true, true]);
      const last = await run(eventsPath, dataDir);
      expect(last.lines.at(-1)).toBe('caught-up');

      const restarted = resultOf(last);
      expect(restarted.clickhouse).toEqual(restarted.projector);
      expect(restarted.clickhouse).toEqual(clean.clickhouse);
      expect(restarted.conversion).toEqual(clean.conversion);
    } finally {
      tmp.remove();
    }
  });
});
