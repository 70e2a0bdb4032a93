import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contentHash, openProjectionStore, rebuild } from './index.js';
import { appendAll, demoEvents, demoRules, openEventStore, tempDir } from './test-support.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const projectorScript = fileURLToPath(new URL('./fixtures/project-until-killed.ts', import.meta.url));

// tsx is a root devDependency; `--import tsx` resolves it from the child's cwd (the repo root).
const skipReason = existsSync(join(repoRoot, 'node_modules', 'tsx')) ? undefined : `tsx is not installed under ${repoRoot}node_modules`;
if (skipReason) console.warn(`projector kill test skipped: ${skipReason}`);

/** Runs the projector in a child process; SIGKILLs it after `flushes` committed flushes (never, when undefined). Resolves with its stdout lines. */
function runProjector(eventsPath: string, projectionsPath: string, flushes?: number): Promise<{ lines: string[]; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', projectorScript, eventsPath, projectionsPath], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const seen = stdout.split('\n').filter((l) => l.startsWith('flushed')).length;
      if (!killed && flushes !== undefined && seen >= flushes) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve({ lines: stdout.split('\n').filter(Boolean), killed: signal === 'SIGKILL' });
      else reject(new Error(`projector exited with ${code ?? signal}:\n${stderr}`));
    });
  });
}

describe.skipIf(skipReason)('projector under kill -9', () => {
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
