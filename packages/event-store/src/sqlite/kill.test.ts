import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../port.js';
import { openSqliteEventStore } from './sqlite-event-store.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const writerScript = fileURLToPath(new URL('./fixtures/append-until-killed.ts', import.meta.url));
const ACKS_BEFORE_KILL = 300;

// tsx is a root devDependency; `--import tsx` resolves it from the child's cwd (the repo root).
const skipReason = existsSync(join(repoRoot, 'node_modules', 'tsx')) ? undefined : `tsx is not installed under ${repoRoot}node_modules`;
if (skipReason) console.warn(`kill.test skipped: ${skipReason}`);

/** Runs the writer until it has acknowledged `acks` ids, SIGKILLs it, and returns every id it acknowledged. */
function runWriterAndKill(dbPath: string, acks: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, dbPath], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!killed && stdout.split('\n').length - 1 >= acks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    // 'close' (not 'exit') fires after stdout is drained, so no ack is missed.
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer ended on its own before ${acks} acks (signal ${signal}):\n${stderr}`));
        return;
      }
      // Only complete lines are acknowledgements.
      resolve(stdout.split('\n').slice(0, -1));
    });
  });
}

/** Every acknowledged id present exactly once, revisions 0..n-1 per stream in log order, positions increasing. */
async function expectIntactLog(dbPath: string, acknowledged: readonly string[]): Promise<RecordedEvent[]> {
  const check = new Database(dbPath);
  expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
  check.close();

  const store = await openSqliteEventStore({ path: dbPath });
  const log = await store.readAll();
  await store.close();

  const occurrences = new Map<string, number>();
  for (const event of log) occurrences.set(event.id, (occurrences.get(event.id) ?? 0) + 1);
  const missingOrRepeated = acknowledged.filter((id) => occurrences.get(id) !== 1);
  expect(missingOrRepeated).toEqual([]);

  const revisionsByStream = new Map<string, number[]>();
  for (const event of log) {
    const revisions = revisionsByStream.get(event.streamId) ?? [];
    revisions.push(event.revision);
    revisionsByStream.set(event.streamId, revisions);
  }
  for (const [streamId, revisions] of revisionsByStream) {
    expect({ streamId, revisions }).toEqual({ streamId, revisions: revisions.map((_, i) => i) });
  }
  for (let i = 1; i < log.length; i++) expect(log[i]!.position).toBeGreaterThan(log[i - 1]!.position);
  return log;
}

describe.skipIf(skipReason)('sqlite event store under kill -9', () => {
  it('given a writer killed mid-stream, when the file is reopened, then every acknowledged event is there once and no stream has a gap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-kill-'));
    try {
      const dbPath = join(dir, 'events.db');
      const acknowledged = await runWriterAndKill(dbPath, ACKS_BEFORE_KILL);
      expect(acknowledged.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);

      await expectIntactLog(dbPath, acknowledged);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('given another process appending to the same file, when this process appends meanwhile, then both get through', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-two-writers-'));
    try {
      const dbPath = join(dir, 'events.db');
      const store = await openSqliteEventStore({ path: dbPath });
      const child = runWriterAndKill(dbPath, ACKS_BEFORE_KILL);
      let childDone = false;
      const markDone = () => (childDone = true);
      child.then(markDone, markDone);
      const ours: string[] = [];
      // The writers contend for SQLite's single write lock; busy_timeout makes each wait its turn.
      // Both pause between appends, as request-driven writers do: SQLite's busy handler is not
      // fair, and two writers that re-lock at once can starve each other past the timeout.
      for (let i = 0; !childDone; i++) {
        await store.append({ streamId: 'parent-lead', events: [{ id: `parent-${i}`, type: 'visit', data: { i } }] });
        ours.push(`parent-${i}`);
        await sleep(1);
      }
      await store.close();
      const theirs = await child;

      const log = await expectIntactLog(dbPath, [...theirs, ...ours]);
      // The two really interleaved: some of our events sit between two of the child's.
      const writers = log.map((e) => (e.streamId === 'parent-lead' ? 'parent' : 'child'));
      const firstChild = writers.indexOf('child');
      const lastChild = writers.lastIndexOf('child');
      expect(writers.slice(firstChild, lastChild).includes('parent')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
