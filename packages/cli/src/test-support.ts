import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const main = join(root, 'packages', 'cli', 'src', 'main.ts');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in its own process, as a user would: without the API keys of the environment, as `user` when given. */
export function runSluice(args: readonly string[], options: { user?: { uid: number; gid: number } } = {}): CliRun {
  const r = spawnSync(tsx, [main, ...args], { encoding: 'utf8', env: { ...process.env, SLUICE_API_KEYS: '' }, ...options.user });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runSluice without blocking this process: for a CLI that talks to a server the test runs. */
export function runSluiceAsync(args: readonly string[]): Promise<CliRun> {
  const child = spawn(tsx, [main, ...args], { env: { ...process.env, SLUICE_API_KEYS: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** An opportunity event as a line of an import file (of account acme unless given). */
export const dealLine = (id: string, type: string, occurredAt: string, properties: Record<string, unknown>, accountId = 'acme') => ({ id, type, occurredAt, accountId, properties });

/**
 * The real CLI over a data directory of the calling file's own: before its
 * tests, `events` go in through `sluice import`; after them, the directory is
 * removed. The environment's keys, config file, data dir and ClickHouse are
 * cleared, so only these events can answer.
 */
export function sluiceOverImported(prefix: string, events: () => readonly object[]): (...args: string[]) => CliRun {
  let dir: string | undefined;
  const sluice = (...args: string[]): CliRun => {
    if (dir === undefined) throw new Error('sluiceOverImported() is only available inside the tests of its file');
    const env = { ...process.env, SLUICE_API_KEYS: '', SLUICE_CONFIG: '', SLUICE_DATA_DIR: '', CLICKHOUSE_URL: '' };
    const r = spawnSync(tsx, [main, ...args, '--data-dir', join(dir, 'data')], { encoding: 'utf8', env });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, events().map((e) => JSON.stringify(e)).join('\n') + '\n');
    const imported = sluice('import', file);
    expect(imported.code, imported.stderr).toBe(0);
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return sluice;
}
