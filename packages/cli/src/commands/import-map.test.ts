import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSluice } from '../test-support.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-import-map-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sluice = (...args: string[]) => runSluice([...args, '--data-dir', join(dir, 'data')]);

const MAP_YAML = `
timeZone: Europe/Madrid
placeholders: [unknown]
events:
  - type: identify
    id: { column: Contact, prefix: contact- }
    occurredAt: { column: Created, format: yyyy-MM-dd }
    leadId: Contact
    properties:
      industry: Industry
  - type: payment
    id: { column: Contact, prefix: paid- }
    occurredAt: { column: Paid At, format: dd/MM/yyyy HH:mm }
    when: { column: Paid At }
    leadId: Contact
    properties:
      amount: { column: Amount, as: number }
      currency: { value: EUR }
`;

function files(rows: string[]) {
  const csv = join(dir, 'contacts.csv');
  writeFileSync(csv, ['Contact,Created,Industry,Paid At,Amount', ...rows].join('\r\n') + '\r\n');
  const map = join(dir, 'contacts.map.yaml');
  writeFileSync(map, MAP_YAML);
  return { csv, map };
}

describe('sluice import FILE --map MAP', () => {
  it('given a CSV and a YAML map, then the events are written, the date-only column is named in the report, and a re-run writes nothing', () => {
    const { csv, map } = files(['c1,2026-05-01,Retail,02/05/2026 10:15,120', 'c2,2026-05-03,unknown,,']);
    const first = sluice('import', csv, '--map', map);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('2 rows, 3 events; 3 written, 0 already stored');
    expect(first.stdout).toContain('column "Created": 2 value(s) had no time of day, read as local midnight in Europe/Madrid');

    const again = sluice('import', csv, '--map', map, '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ rows: 2, events: 3, written: 0, duplicates: 3, rejectedRows: 0, outcome: 'written' });
  });

  it('given bad rows, then nothing is written, the errors are grouped with their column and lines, --errors gets every rejected row, and --skip-invalid writes the good ones', () => {
    const { csv, map } = files(['c1,2026-05-01,Retail,,', 'c2,05/01/2026,Retail,,', 'c3,2026-05-02,Retail,02/05/2026 10:15,many', 'c4,06/01/2026,Retail,,']);
    const errors = join(dir, 'rejected.ndjson');
    const atomic = sluice('import', csv, '--map', map, '--errors', errors);
    expect(atomic.code).toBe(1);
    expect(atomic.stdout).toContain('NOTHING written: 3 row(s) are bad');
    expect(atomic.stdout).toContain('2 × identify occurredAt (column "Created"): does not match the format yyyy-MM-dd (lines 3, 5, e.g. "05/01/2026", "06/01/2026")');
    expect(atomic.stdout).toContain('1 × payment properties.amount (column "Amount"): is not a number (line 4, e.g. "many")');
    const rejected = readFileSync(errors, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; reasons: string[]; row: Record<string, string> });
    expect(rejected.map((r) => r.line)).toEqual([3, 4, 5]);
    expect(rejected[1]).toEqual({ line: 4, reasons: ['payment properties.amount (column "Amount"): is not a number: "many"'], row: { Contact: 'c3', Created: '2026-05-02', Industry: 'Retail', 'Paid At': '02/05/2026 10:15', Amount: 'many' } });

    const skipping = sluice('import', csv, '--map', map, '--skip-invalid', '--json');
    expect(skipping.code).toBe(1);
    expect(JSON.parse(skipping.stdout)).toMatchObject({ rows: 4, events: 1, written: 1, rejectedRows: 3, outcome: 'written' });
  });

  it('given --dry-run, then nothing is written, not even a data directory; given a map that is no file nor a ready map, then the error lists the ready maps', () => {
    const { csv, map } = files(['c1,2026-05-01,Retail,,']);
    const dry = sluice('import', csv, '--map', map, '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ rows: 1, events: 1, written: 0, outcome: 'checked' });
    expect(existsSync(join(dir, 'data'))).toBe(false);

    const unknown = sluice('import', csv, '--map', 'hubspot-contactz');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('cannot read the import map hubspot-contactz: no such file (ready maps: hubspot-contacts, hubspot-deals, salesforce-leads, salesforce-opportunities)');
  });
});
