import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSluice } from './test-support.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-help-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sluice = (...args: string[]) => runSluice([...args, '--data-dir', join(dir, 'data')]);

describe('sluice <command> --help', () => {
  it("prints that command's usage and the common options, not the whole list", () => {
    const own = sluice('import', '--help');
    expect(own.code).toBe(0);
    expect(own.stdout).toMatch(/^usage:\n {2}sluice import <file\.ndjson>/);
    expect(own.stdout).toContain('sluice import <file.csv|file.ndjson[.gz]> --map MAP');
    expect(own.stdout).toContain('common options:\n  --data-dir DIR');
    expect(own.stdout).not.toContain('sluice serve');

    expect(sluice('help', 'import').stdout).toBe(own.stdout);

    const sub = sluice('query', 'cohorts', '-h');
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('sluice query cohorts --from DATE --to DATE');
    expect(sub.stdout).not.toContain('sluice query funnel');
  });
});

describe('did you mean', () => {
  it('given a misspelled command, subcommand or flag, then the error names the nearest one and exits 2', () => {
    const command = sluice('imprt', 'x.csv');
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "imprt" (did you mean "import"?)');

    const sub = sluice('query', 'funel');
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('(got "funel" (did you mean "funnel"?))');

    const flag = sluice('import', 'x.csv', '--skip-invalide');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('unknown option --skip-invalide (did you mean "--skip-invalid"?)');
    // the usage after it is the command's own
    expect(flag.stderr).toContain('sluice import <file.csv|file.ndjson[.gz]> --map MAP');
    expect(flag.stderr).not.toContain('sluice serve');
  });
});

describe('dates and windows in query flags', () => {
  it('given a date in none of the formats, then the error names the flag and the formats it takes', () => {
    const r = sluice('query', 'conversion', '--from', '01/06/2017', '--to', '2017-Q3');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from takes YYYY-MM-DD, YYYY-MM, YYYY-Qn (e.g. 2026-Q1) or an instant with an offset (2026-03-01T10:00:00+01:00); got "01/06/2017"');
  });

  it('given a funnel window over 3,650 days, then it is refused with the bound (as stage conversion)', () => {
    const r = sluice('query', 'funnel', '--steps', 'visit,form_submit', '--from', '2016-01', '--to', '2026-Q1', '--window', '3651d');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('window: must be at most 3650 days');
  });
});
