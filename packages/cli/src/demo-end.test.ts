import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSluice } from './test-support.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-demo-end-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sluice = (...args: string[]) => runSluice([...args, '--data-dir', join(dir, 'data')]);
const demo = (end: string) => ['demo', '--events', '3000', '--months', '2', '--end', end, '--time-zone', 'Europe/Berlin', '--json'];

describe('sluice demo --end', () => {
  it('given an end, then the history runs up to it and not past it, and the same end again writes nothing new', () => {
    const end = '2026-05-20T10:00:00+02:00';
    const first = sluice(...demo(end));
    expect(first.code, first.stderr).toBe(0);
    // two calendar months in the zone: April (whole) and May up to the end
    expect(JSON.parse(first.stdout).options).toMatchObject({ start: '2026-04-01', end, months: 2 });
    const before = sluice('query', 'funnel', '--steps', 'visit', '--from', '2026-04-01T00:00:00+02:00', '--to', end, '--json');
    const after = sluice('query', 'funnel', '--steps', 'visit', '--from', end, '--to', '2026-07-01T00:00:00+02:00', '--json');
    expect(JSON.parse(before.stdout).steps[0].leads).toBeGreaterThan(0);
    expect(JSON.parse(after.stdout).steps[0].leads).toBe(0);
    const again = sluice(...demo(end));
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ accepted: 0, duplicates: JSON.parse(first.stdout).events });
  });

  it('given a demo already written with another end, then a second one is refused by name and nothing of it is written', () => {
    expect(sluice(...demo('2026-05-20T10:00:00+02:00')).code).toBe(0);
    const other = sluice(...demo('2026-05-27T10:00:00+02:00'));
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('already holds a demo data set that differs from this one');
    expect(other.stderr).toContain("give the first demo's --end again");
    expect(other.stderr).not.toMatch(/\n\s+at /);
  });

  it('given an end without an offset, or a start after it, then the flag is named and nothing is written', () => {
    const local = sluice('demo', '--events', '100', '--end', '2026-05-20T10:00:00');
    expect(local.code).not.toBe(0);
    expect(local.stderr).toContain('--end must be an instant with an offset or Z');
    const late = sluice('demo', '--events', '100', '--start', '2026-06-01', '--end', '2026-05-20T10:00:00Z');
    expect(late.code).not.toBe(0);
    expect(late.stderr).toContain('--start (2026-06-01) must come before');
  });
});
