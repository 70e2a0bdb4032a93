import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse';
import { compileMap, mapRow, openSourceTable, parseImportMap } from '@sluice/import';
import { printFigures } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(here, '..', '..', 'node_modules', '.bin', 'tsx');
const cli = join(here, '..', '..', 'packages', 'cli', 'src', 'main.ts');

/** A lead export as a European CRM writes it: `;`, quoted text, local times, a decimal comma, a placeholder. */
const MAP = {
  timeZone: 'Europe/Berlin',
  placeholders: ['Select'],
  events: [
    {
      type: { column: 'Last Activity', values: { 'Demo Requested': 'demo_requested', 'Email Opened': 'email_open', 'Page Visited': 'visit' } },
      id: { column: 'Activity ID' },
      occurredAt: { column: 'Activity At', format: 'dd/MM/yyyy HH:mm' },
      leadId: 'Lead ID',
      source: 'Lead Source',
      channel: 'Lead Origin',
      properties: { 'x.industry': 'Industry', 'x.dealValue': { column: 'Deal Value', as: 'number', decimalSeparator: ',' } },
    },
  ],
};
const ACTIVITIES = ['Demo Requested', 'Email Opened', 'Page Visited'];
const SOURCES = ['Google', 'Direct Traffic', '"Referral; partner"', 'Olark Chat'];
const ORIGINS = ['Landing Page Submission', 'API', 'Lead Add Form'];
const INDUSTRIES = ['Retail', 'Select', 'Banking', 'Education'];

/** Deterministic rows: row i's values follow from i alone, so two runs import the same file. */
function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('Activity ID;Lead ID;Last Activity;Activity At;Lead Source;Lead Origin;Industry;Deal Value\r\n');
  const pad = (n: number) => String(n).padStart(2, '0');
  let i = 0;
  return new Promise((resolve, reject) => {
    out.on('error', reject);
    const more = () => {
      let ok = true;
      while (i < rows && ok) {
        const minutes = i % (180 * 24 * 60);
        const day = 1 + Math.floor(minutes / (24 * 60)) % 28;
        const month = 1 + Math.floor(minutes / (28 * 24 * 60)) % 6;
        const at = `${pad(day)}/${pad(month)}/2026 ${pad(Math.floor(minutes / 60) % 24)}:${pad(minutes % 60)}`;
        const activity = ACTIVITIES[i % 3]!;
        // a decimal comma with thousands dots (3.042,50), quoted; every fifth row without a value
        const value = i % 5 === 0 ? '' : `"${1 + (i % 9)}.${String(i % 1000).padStart(3, '0')},50"`;
        ok = out.write(`act-${i};lead-${i % 50_000};${activity};${at};${SOURCES[i % 4]};${ORIGINS[i % 3]};${INDUSTRIES[i % 4]};${value}\r\n`);
        i++;
      }
      if (i < rows) out.once('drain', more);
      else out.end(resolve);
    };
    more();
  });
}

/** The events the map makes of the file, as Sluice's own NDJSON: the same events the CSV path imports. */
async function writeNdjson(csv: string, path: string): Promise<number> {
  const map = parseImportMap(MAP, 'bench map');
  const compiled = compileMap(map, 'UTC');
  const table = await openSourceTable(createReadStream(csv), { batchSize: 10_000 });
  const indexes = compiled.columns.map((column) => table.header!.indexOf(column));
  const out = createWriteStream(path);
  let events = 0;
  for await (const batch of table.batches) {
    let text = '';
    for (const record of batch) {
      if (!('values' in record)) continue;
      for (const { event } of mapRow(compiled, indexes.map((i) => record.values[i]), new Map()).events) {
        text += JSON.stringify(event) + '\n';
        events++;
      }
    }
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(resolve));
  return events;
}

/** The same library with the same options, rows only: what reading the CSV costs without mapping, validation or the store. */
async function rawParse(csv: string): Promise<number> {
  const started = performance.now();
  let rows = 0;
  for await (const _record of Readable.from(createReadStream(csv)).pipe(parse({ delimiter: ';', bom: true, info: true, relax_column_count: true, skip_empty_lines: true }))) rows++;
  return (rows - 1) / ((performance.now() - started) / 1000);
}

/** The real CLI into a fresh data directory; the rate from the command's own import time (start-up excluded, the same for both paths). */
function sluiceImport(args: string[], dataDir: string, rowsField: 'rows' | 'events'): { perSecond: number; summary: Record<string, unknown> } {
  const run = spawnSync(tsx, [cli, 'import', ...args, '--json', '--data-dir', dataDir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, SLUICE_API_KEYS: '' } });
  if (run.status !== 0) throw new Error(`sluice import ${args.join(' ')} exited ${run.status}: ${run.stderr}${run.stdout.slice(0, 2000)}`);
  const summary = JSON.parse(run.stdout) as Record<string, unknown> & { elapsedMs: number };
  return { perSecond: (summary[rowsField] as number) / (summary.elapsedMs / 1000), summary };
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { rows: { type: 'string', default: '1000000' } } });
  const rows = Number(values.rows);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-import-'));
  try {
    const csv = join(dir, 'leads.csv');
    const ndjson = join(dir, 'events.ndjson');
    const map = join(dir, 'leads.map.json');
    writeFileSync(map, JSON.stringify(MAP));
    console.log(`writing ${rows.toLocaleString('en-US')} CSV rows and the same events as NDJSON ...`);
    await writeCsv(csv, rows);
    const events = await writeNdjson(csv, ndjson);
    if (events !== rows) throw new Error(`the map made ${events} events of ${rows} rows`);

    const parsed = await rawParse(csv);
    const ndjsonImport = sluiceImport([ndjson], join(dir, 'ndjson-data'), 'events');
    const atomic = sluiceImport([csv, '--map', map], join(dir, 'csv-data'), 'rows');
    const skipping = sluiceImport([csv, '--map', map, '--skip-invalid'], join(dir, 'csv-skip-data'), 'rows');
    for (const [name, s] of [['NDJSON', ndjsonImport.summary], ['CSV', atomic.summary], ['CSV --skip-invalid', skipping.summary]] as const) {
      const written = (s.accepted ?? s.written) as number;
      if (written !== rows) throw new Error(`${name} import wrote ${written} of ${rows} events`);
    }
    printFigures(
      `import: ${rows.toLocaleString('en-US')} rows (${(statSync(csv).size / 1e6).toFixed(0)} MB CSV, ${(statSync(ndjson).size / 1e6).toFixed(0)} MB NDJSON), one event per row, SQLite WAL synchronous=FULL, batches of 5,000`,
      [
        { name: 'sluice import CSV --map (rows/s; atomic: a check pass, then the write pass)', value: atomic.perSecond, baseline: ndjsonImport.perSecond, baselineName: 'sluice import NDJSON, the same events' },
        { name: 'sluice import CSV --map --skip-invalid (rows/s; one pass)', value: skipping.perSecond, baseline: ndjsonImport.perSecond, baselineName: 'sluice import NDJSON, the same events' },
        { name: 'sluice import CSV --map (rows/s)', value: atomic.perSecond, baseline: parsed, baselineName: 'csv-parse alone, same options' },
      ],
    );
    console.log('aim (issue 16): the CSV path within 0.8 of the NDJSON path');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
