import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The README's two commands are the first thing a newcomer runs. Their install
 * line brings whatever pnpm 10 is newest; pnpm must then run as it is. A
 * packageManager pin made a newer pnpm switch to the pinned version, which
 * checks a registry signature our machines cannot verify, and refused; so
 * package.json asks only for pnpm >= 10 (engines). And CI must run the
 * README's own line, so that it breaks when the README does.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${repoRoot}README.md`, 'utf8');
const ciRun = readFileSync(`${repoRoot}.ci/run`, 'utf8');
const pnpm = (cwd: string) => spawnSync('pnpm', ['--version'], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });

describe('the README commands', () => {
  it('given the README, then it shows exactly two commands, each installing with the same line, one serving the demo and one testing', () => {
    const commands = [...readme.matchAll(/```sh\n([^`]*?)\n```/g)].map((m) => m[1]!).filter((c) => c.startsWith('npm install'));
    expect(commands).toHaveLength(2);
    const [serve, test] = commands as [string, string];
    expect(serve).toMatch(/ && pnpm sluice serve --demo$/);
    expect(test).toMatch(/ && pnpm test$/);
    expect(serve.replace(/ && pnpm sluice serve --demo$/, '')).toBe(test.replace(/ && pnpm test$/, ''));
  });

  it('given the pnpm on this machine, whatever 10.x it is, then inside the repository it runs as itself, switching to no pinned version', () => {
    expect(JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8'))).not.toHaveProperty('packageManager');
    const outside = pnpm(tmpdir());
    expect(outside.status, outside.stderr).toBe(0);
    const inside = pnpm(repoRoot);
    expect(inside.stderr).not.toMatch(/Refusing to run|signature/);
    expect(inside.status, inside.stderr).toBe(0);
    expect(inside.stdout.trim()).toBe(outside.stdout.trim());
  });

  it('given .ci/run, then it installs with the line it reads from the README and names no pnpm version of its own', () => {
    expect(ciRun).toMatch(/grep -E '\^npm install .*README\.md/);
    expect(ciRun).toContain('bash -c "$install_part"');
    expect(ciRun).toContain('bash -c "$test_part"');
    expect(ciRun).not.toMatch(/npm install -g|pnpm@\d/);
  });
});
