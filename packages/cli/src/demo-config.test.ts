import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const main = join(root, 'packages', 'cli', 'src', 'main.ts');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-demo-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function sluice(...args: string[]) {
  const env = { ...process.env, SLUICE_API_KEYS: '', SLUICE_CONFIG: '', SLUICE_DATA_DIR: '' };
  const r = spawnSync(tsx, [main, ...args, '--data-dir', join(dir, 'data')], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const demo = ['demo', '--events', '2000', '--start', '2026-01-01', '--months', '2', '--time-zone', 'Europe/Berlin'];
const rulesFile = () => join(dir, 'data', 'sluice.config.json');

describe('the demo rules of a fresh data directory', () => {
  it('given no configuration, when the demo is written, then its rules are written beside it and every later command reads them', () => {
    const r = sluice(...demo);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`demo rules (business units smb, enterprise, partners; illustrative exchange rates) written to ${rulesFile()}`);
    const rules = JSON.parse(readFileSync(rulesFile(), 'utf8'));
    expect(rules).toMatchObject({ version: 'demo-1', timeZone: 'Europe/Berlin', businessUnits: { default: 'smb' }, currencies: { report: 'USD' } });
    expect(rules.businessUnits.units.map((u: { id: string }) => u.id)).toEqual(['smb', 'enterprise', 'partners']);
    // a later command, without --config, projects under the demo's rules
    expect(JSON.parse(sluice('rebuild', '--json').stdout).configVersion).toBe('demo-1');
    // writing the demo again keeps the rules file as it is
    writeFileSync(rulesFile(), JSON.stringify({ ...rules, version: 'demo-edited' }));
    expect(sluice(...demo).code).toBe(0);
    expect(JSON.parse(readFileSync(rulesFile(), 'utf8')).version).toBe('demo-edited');
  });

  it('given an explicit configuration, or a data directory that already holds events, then nothing is written', () => {
    const config = join(dir, 'mine.json');
    writeFileSync(config, JSON.stringify({ version: 'mine-1' }));
    expect(sluice(...demo, '--config', config).code).toBe(0);
    expect(existsSync(rulesFile())).toBe(false);
    const events = join(dir, 'one.ndjson');
    writeFileSync(events, JSON.stringify({ id: 'x1', type: 'visit', occurredAt: '2026-03-01T10:00:00Z', anonymousId: 'a1' }) + '\n');
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    expect(sluice('import', events).code).toBe(0);
    expect(sluice(...demo).code).toBe(0);
    expect(existsSync(rulesFile())).toBe(false);
  });
});
