import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
