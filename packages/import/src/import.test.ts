import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { RejectedRowsFile } from './errors-file.js';
import { importWithMap } from './import.js';
import type { MapImportOptions } from './import.js';
import { ImportMapError, parseImportMap, parseImportMapText } from './map.js';

let dir: string;
let store: EventStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-map-import-'));
  store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const fileSource = (path: string) => ({ name: path, open: () => createReadStream(path) });

function write(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function storedEvents() {
  const all = await store.readAll();
  return all.filter((e) => e.type !== 'identity_linked').map((e) => e.data);
}

const options = (map: unknown, more: Partial<MapImportOptions> = {}): MapImportOptions => ({
  map: parseImportMap(map, 'test map'),
  mapName: 'test map',
  defaultTimeZone: 'UTC',
  dryRun: false,
  skipInvalid: false,
  batchSize: 2,
  ...more,
});

/** A lead export as a European CRM writes it: `;`, CRLF, a BOM, a quoted `;`, dates without a time, a decimal comma, "Select" for nothing. */
const LEADS_CSV =
  '\uFEFFLead ID;Company;Created;Last Activity;Last Activity At;Lead Origin;Deal Value;Industry\r\n' +
  'L-1;"Acme; Inc";01/03/2026;SMS Sent;01/03/2026 09:30;Landing Page;"1.234,50";Select\r\n' +
  'L-2;Globex;15/03/2026;Email Opened;16/03/2026 18:05;API;;Retail\r\n' +
  'L-3;Initech;31/03/2026;Unreachable;;API;;Select\r\n';

const LEADS_MAP = {
  timeZone: 'Europe/Berlin',
  placeholders: ['Select'],
  events: [
    {
      type: 'identify',
      id: { column: 'Lead ID', prefix: 'identify-' },
      occurredAt: { column: 'Created', format: 'dd/MM/yyyy' },
      leadId: 'Lead ID',
      channel: 'Lead Origin',
      properties: { company: 'Company', industry: 'Industry', 'x.dealValue': { column: 'Deal Value', as: 'number', decimalSeparator: ',' } },
    },
    // each activity its own entry: form_submit takes a formId, email_open none
    {
      type: { column: 'Last Activity', values: { 'sms sent': 'form_submit' }, otherwise: 'skip' },
      id: { column: 'Lead ID', prefix: 'activity-' },
      occurredAt: { column: 'Last Activity At', format: 'dd/MM/yyyy HH:mm' },
      leadId: 'Lead ID',
      properties: { formId: { value: 'sms' } },
    },
    {
      type: { column: 'Last Activity', values: { 'Email Opened': 'email_open' }, otherwise: 'skip' },
      id: { column: 'Lead ID', prefix: 'activity-' },
      occurredAt: { column: 'Last Activity At', format: 'dd/MM/yyyy HH:mm' },
      leadId: 'Lead ID',
    },
  ],
};

describe('sluice import with a map: CSV as CRMs write it', () => {
  it('given a ;-separated CRLF file with a BOM, quoted delimiters, date-only and zoned times, a value table, two events per row and a placeholder, then the stored events are exactly the hand-written ones', async () => {
    const file = write('leads.csv', LEADS_CSV);
    const summary = await importWithMap(store, fileSource(file), options(LEADS_MAP));

    expect(summary).toMatchObject({ format: 'csv', delimiter: ';', gzip: false, rows: 3, events: 5, written: 5, duplicates: 0, rejectedRows: 0, rowsWithoutEvents: 0, outcome: 'written', timeZone: 'Europe/Berlin' });
    expect(summary.dateOnly).toEqual([{ column: 'Created', timeZone: 'Europe/Berlin', count: 3 }]);
    expect(await storedEvents()).toEqual([
      // a first-of-month date is that day's local midnight (+01:00 in March before the switch), not the previous evening in UTC
      { id: 'identify-L-1', type: 'identify', occurredAt: '2026-03-01T00:00:00+01:00', leadId: 'L-1', channel: 'Landing Page', properties: { company: 'Acme; Inc', x: { dealValue: 1234.5 } } },
      { id: 'activity-L-1', type: 'form_submit', occurredAt: '2026-03-01T09:30:00+01:00', leadId: 'L-1', properties: { formId: 'sms' } },
      { id: 'identify-L-2', type: 'identify', occurredAt: '2026-03-15T00:00:00+01:00', leadId: 'L-2', channel: 'API', properties: { company: 'Globex', industry: 'Retail' } },
      { id: 'activity-L-2', type: 'email_open', occurredAt: '2026-03-16T18:05:00+01:00', leadId: 'L-2', properties: {} },
      // the 31st is after the switch to summer time: +02:00
      { id: 'identify-L-3', type: 'identify', occurredAt: '2026-03-31T00:00:00+02:00', leadId: 'L-3', channel: 'API', properties: { company: 'Initech' } },
    ]);
  });

  it('given the atomic default, then a source whose events it can hold is read once, a larger one twice (check, then write), with the same events stored', async () => {
    const file = write('leads.csv', LEADS_CSV);
    let opened = 0;
    const counted = { name: file, open: () => (opened++, createReadStream(file)) };
    const held = await importWithMap(store, counted, options(LEADS_MAP));
    expect(opened).toBe(1);
    const heldEvents = await storedEvents();

    const other = await openSqliteEventStore({ path: join(dir, 'other.sqlite') });
    try {
      opened = 0;
      const reread = await importWithMap(other, counted, options(LEADS_MAP, { holdEvents: 2 }));
      expect(opened).toBe(2);
      expect(reread).toMatchObject({ written: held.written, duplicates: 0, outcome: 'written' });
      expect((await other.readAll()).filter((e) => e.type !== 'identity_linked').map((e) => e.data)).toEqual(heldEvents);
    } finally {
      await other.close();
    }
  });

  it('given the same file gzipped, then it is recognised by its bytes and importing it after the plain one writes nothing new', async () => {
    const map = { ...LEADS_MAP, events: [LEADS_MAP.events[0]] };
    const first = await importWithMap(store, fileSource(write('leads.csv', LEADS_CSV)), options(map));
    const again = await importWithMap(store, fileSource(write('leads.csv.gz', gzipSync(LEADS_CSV))), options(map));

    expect(first).toMatchObject({ written: 3, duplicates: 0 });
    expect(again).toMatchObject({ gzip: true, rows: 3, events: 3, written: 0, duplicates: 3, outcome: 'written' });
    expect((await storedEvents()).map((e) => (e as { id: string }).id)).toEqual(['identify-L-1', 'identify-L-2', 'identify-L-3']);
  });

  it('given ids hashed from columns, then each entry of a row gets its own id and a re-import gives the same ones', async () => {
    const csv = 'email,signed up,paid,amount\nann@example.com,2026-02-01T10:00:00Z,2026-02-03T12:00:00Z,99\nbob@example.com,2026-02-02T10:00:00Z,,\n';
    const map = {
      events: [
        { type: 'identify', id: { hash: ['email'] }, occurredAt: 'signed up', leadId: 'email' },
        { type: 'payment', id: { hash: ['email'], prefix: 'pay-' }, occurredAt: 'paid', when: { column: 'paid' }, leadId: 'email', properties: { amount: { column: 'amount', as: 'number' }, currency: { value: 'EUR' } } },
      ],
    };
    const file = write('signups.csv', csv);
    const first = await importWithMap(store, fileSource(file), options(map));
    const again = await importWithMap(store, fileSource(file), options(map));

    expect(first).toMatchObject({ rows: 2, events: 3, written: 3 });
    expect(again).toMatchObject({ events: 3, written: 0, duplicates: 3 });
    const ids = (await storedEvents()).map((e) => (e as { id: string }).id);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[1]).toMatch(/^pay-[0-9a-f]{32}$/);
    // the hash is of the columns and the entry: ann's identify and payment differ in the entry alone
    expect(ids[1]!.slice(4)).not.toBe(ids[0]);
  });

  it('given NDJSON whose fields are not Sluice envelopes, with epoch-millisecond times, then the map reads them by key', async () => {
    const lines = [
      JSON.stringify({ visitor: 'v-1', ts: 1767261600000, utm: { source: 'google' } }),
      JSON.stringify({ visitor: 'v-2', ts: 1767265200000, utm: null }),
    ];
    const map = { events: [{ type: 'visit', id: { hash: ['visitor', 'ts'] }, occurredAt: { column: 'ts', format: 'epoch_ms' }, anonymousId: 'visitor', properties: { 'x.utm': 'utm' } }] };
    const summary = await importWithMap(store, fileSource(write('visits.ndjson', lines.join('\n'))), options(map));

    expect(summary).toMatchObject({ format: 'ndjson', rows: 2, written: 2 });
    const events = (await storedEvents()) as Array<Record<string, unknown>>;
    expect(events.map(({ id: _id, ...rest }) => rest)).toEqual([
      { type: 'visit', occurredAt: '2026-01-01T10:00:00Z', anonymousId: 'v-1', properties: { x: { utm: '{"source":"google"}' } } },
      { type: 'visit', occurredAt: '2026-01-01T11:00:00Z', anonymousId: 'v-2', properties: {} },
    ]);
  });
});

describe('sluice import with a map: errors an analyst can act on', () => {
  const DEALS_CSV = [
    'Deal,Contact,Stage,Close Date,Amount,Currency',
    'D-1,c-1,Closed Won,2026-04-01,1200,EUR',
    'D-2,c-2,Closed Won,01/04/2026,900,EUR',
    'D-3,c-3,Closed Won,2026-04-03,lots,EUR',
    'D-4,c-4,Closed Won,02/04/2026,500,EURO',
    'D-5,c-5,Closed Lost,2026-04-05,0,EUR',
    'D-6,c-6,Closed Won,2026-04-06,300,EUR',
  ].join('\n');
  const DEALS_MAP = {
    timeZone: 'America/New_York',
    events: [
      {
        type: 'payment',
        id: { column: 'Deal', prefix: 'won-' },
        occurredAt: { column: 'Close Date', format: 'yyyy-MM-dd' },
        when: { column: 'Stage', in: ['closed won'] },
        leadId: 'Contact',
        properties: { amount: { column: 'Amount', as: 'number' }, currency: 'Currency' },
      },
    ],
  };

  it('given bad rows and the atomic default, then nothing is written and the errors are grouped by event, field and message with the column, a count and the first lines', async () => {
    const errorsFile = new RejectedRowsFile(join(dir, 'rejected.csv'));
    const summary = await importWithMap(store, fileSource(write('deals.csv', DEALS_CSV)), options(DEALS_MAP, { onRejectedRow: (row) => errorsFile.write(row) }));
    errorsFile.close();

    expect(summary).toMatchObject({ rows: 6, rejectedRows: 3, written: 0, outcome: 'refused', rowsWithoutEvents: 1 });
    expect(await store.headPosition()).toBe(0);
    expect(summary.errors).toEqual([
      { eventType: 'payment', field: 'occurredAt', column: 'Close Date', message: 'does not match the format yyyy-MM-dd', count: 2, lines: [3, 5], examples: ['01/04/2026', '02/04/2026'] },
      { eventType: 'payment', field: 'properties.amount', column: 'Amount', message: 'is not a number', count: 1, lines: [4], examples: ['lots'] },
    ]);
    // the errors file has every rejected row, its reason and its columns as they were
    expect(readFileSync(join(dir, 'rejected.csv'), 'utf8').split('\n')).toEqual([
      'line,reason,Deal,Contact,Stage,Close Date,Amount,Currency',
      '3,"payment occurredAt (column ""Close Date""): does not match the format yyyy-MM-dd: ""01/04/2026""",D-2,c-2,Closed Won,01/04/2026,900,EUR',
      '4,"payment properties.amount (column ""Amount""): is not a number: ""lots""",D-3,c-3,Closed Won,2026-04-03,lots,EUR',
      '5,"payment occurredAt (column ""Close Date""): does not match the format yyyy-MM-dd: ""02/04/2026""",D-4,c-4,Closed Won,02/04/2026,500,EURO',
      '',
    ]);
  });

  it('given --skip-invalid, then the good rows land, the rejected ones are counted, and a validation issue names the column that fed the field', async () => {
    const summary = await importWithMap(store, fileSource(write('deals.csv', DEALS_CSV)), options(DEALS_MAP, { skipInvalid: true }));

    expect(summary).toMatchObject({ rows: 6, events: 2, rejectedRows: 3, written: 2, outcome: 'written' });
    expect(summary.errors).toHaveLength(2);
    expect(await storedEvents()).toEqual([
      { id: 'won-D-1', type: 'payment', occurredAt: '2026-04-01T00:00:00-04:00', leadId: 'c-1', properties: { amount: 1200, currency: 'EUR' } },
      { id: 'won-D-6', type: 'payment', occurredAt: '2026-04-06T00:00:00-04:00', leadId: 'c-6', properties: { amount: 300, currency: 'EUR' } },
    ]);

    const currencyIssue = await importWithMap(store, fileSource(write('bad-currency.csv', 'Deal,Contact,Stage,Close Date,Amount,Currency\nD-9,c-9,Closed Won,2026-04-09,10,EURO\n')), options(DEALS_MAP, { dryRun: true }));
    expect(currencyIssue.errors).toEqual([expect.objectContaining({ eventType: 'payment', field: 'properties.currency', column: 'Currency', count: 1, lines: [2], examples: ['EURO'] })]);
  });

  it('given a dry run, then every row is checked and nothing is written', async () => {
    const good = DEALS_CSV.split('\n').filter((_, i) => [0, 1, 6].includes(i)).join('\n');
    const summary = await importWithMap(store, fileSource(write('good.csv', good)), options(DEALS_MAP, { dryRun: true }));
    expect(summary).toMatchObject({ rows: 2, events: 2, rejectedRows: 0, written: 0, outcome: 'checked' });
    expect(await store.headPosition()).toBe(0);
  });

  it('given a type column whose value is not in the table and otherwise: reject, then the row is rejected naming the column and the value', async () => {
    const map = { events: [{ type: { column: 'kind', values: { demo: 'demo_requested' } }, id: { column: 'id' }, occurredAt: 'at', leadId: 'lead' }] };
    const summary = await importWithMap(store, fileSource(write('kinds.csv', 'id,kind,at,lead\na,demo,2026-01-01T00:00:00Z,l1\nb,Webinar,2026-01-01T00:00:00Z,l1\n')), options(map));
    expect(summary).toMatchObject({ rejectedRows: 1, outcome: 'refused' });
    expect(summary.errors).toEqual([{ eventType: 'entry 1', field: 'type', column: 'kind', message: "is not in the map's value table (demo)", count: 1, lines: [3], examples: ['Webinar'] }]);
  });

  it('given a row with a field too many (an unquoted delimiter), then that row is rejected with its line', async () => {
    const summary = await importWithMap(store, fileSource(write('ragged.csv', 'id,at,lead\na,2026-01-01T00:00:00Z,l1\nb,2026-01-01T00:00:00Z,l1,extra\n')), options({ events: [{ type: 'visit', id: { column: 'id' }, occurredAt: 'at', leadId: 'lead' }] }));
    expect(summary.errors).toEqual([{ eventType: '(row)', field: '', message: 'has 4 fields where the header has 3 (a delimiter or quote out of place?)', count: 1, lines: [3], examples: [] }]);
  });

  it('given a map reading a column the header lacks, then the import stops before any row, naming the column and the near match', async () => {
    const run = importWithMap(store, fileSource(write('leads.csv', LEADS_CSV)), options({ events: [{ type: 'visit', id: { column: 'lead id' }, occurredAt: 'Created', leadId: 'Lead ID' }] }));
    await expect(run).rejects.toThrow(ImportMapError);
    await expect(run).rejects.toThrow(/the map reads columns the file's header does not have: "lead id" \(did you mean "Lead ID"\?\)/);
  });
});

describe('sluice import with a map: files that are not UTF-8 text', () => {
  const map = { events: [{ type: 'identify', id: { column: 'id' }, occurredAt: 'at', leadId: 'id', properties: { company: 'company' } }] };

  it('given a CSV saved as Windows-1252, then the import stops naming the line, before anything is written', async () => {
    const latin1 = Buffer.concat([Buffer.from('id,at,company\nl1,2026-01-01T00:00:00Z,Acme\nl2,2026-01-01T00:00:00Z,M'), Buffer.from([0xfc]), Buffer.from('ller GmbH\n')]);
    const run = importWithMap(store, fileSource(write('latin1.csv', latin1)), options(map));
    await expect(run).rejects.toThrow('line 3: the file is not UTF-8 text');
    expect(await store.headPosition()).toBe(0);

    const ndjson = Buffer.concat([Buffer.from('{"id":"l1","at":"2026-01-01T00:00:00Z","company":"M'), Buffer.from([0xfc]), Buffer.from('ller"}\n')]);
    await expect(importWithMap(store, fileSource(write('latin1.ndjson', ndjson)), options(map))).rejects.toThrow('line 1: the file is not UTF-8 text');
  });

  it('given a gzip cut short, then the import stops saying so', async () => {
    const whole = gzipSync('id,at,company\n' + 'l1,2026-01-01T00:00:00Z,Acme\n'.repeat(2000));
    const run = importWithMap(store, fileSource(write('cut.csv.gz', whole.subarray(0, whole.length - 20))), options(map));
    await expect(run).rejects.toThrow(/the gzip data is corrupt or cut short/);
    expect(await store.headPosition()).toBe(0);
  });
});

describe('import maps', () => {
  it('given YAML, then it is read like JSON; given a bad map, then every issue is named by its path', () => {
    const yaml = 'timeZone: Europe/Paris\nevents:\n  - type: visit\n    id: { column: id }\n    occurredAt: { column: at, format: "dd/MM/yyyy HH:mm" }\n    anonymousId: visitor\n';
    expect(parseImportMapText(yaml, 'visits.yaml').events[0]).toMatchObject({ type: 'visit', occurredAt: { column: 'at', format: 'dd/MM/yyyy HH:mm' } });
    expect(() => parseImportMap({ timeZone: 'Mars/Olympus', events: [{ type: 'visit', id: {}, occurredAt: 'at', properties: { 'not a key': 'x' } }] }, 'bad.json')).toThrow(
      /the import map bad.json is invalid:\n {2}timeZone: must be an IANA time zone[^\n]*\n {2}events\.0\.id: must be \{"column": NAME\} or \{"hash": \[NAMES\]\}[^\n]*\n {2}events\.0\.properties\.not a key: must be a property name/,
    );
  });
});
