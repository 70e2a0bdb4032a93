import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { DateTime } from 'luxon';
import type { EventStore } from '@sluice/event-store';
import { appendTouchpoints, ndjsonItems, validateBatch } from '@sluice/touchpoint-log';
import type { BatchIssue, RawItem } from '@sluice/touchpoint-log';
import { CliError, formatCount, printJson } from '../output.js';

/**
 * `sluice import-spend <file.csv|file.ndjson>`: an ad platform's cost export
 * into the log as `spend` events, through the same validation and append as
 * every event. The whole file is checked first: one bad row and nothing is
 * written, every bad row named by its line. Re-importing is safe (ids).
 *
 * CSV: a header row, then one row per cost line; columns by name (any case,
 * any order; `-` or space for `_`):
 *   source (required), channel, campaign, business_unit,
 *   amount (required; a dot for decimals), currency (required, ISO 4217),
 *   period_start, period_end (required: an instant with an offset, or a day
 *   YYYY-MM-DD in the business zone; a day as period_end is the last day
 *   covered, as exports name it), occurred_at (default: period_end), id
 *   (default: derived from source, channel, campaign, unit, period and
 *   currency, so the same export imports once).
 * NDJSON: one spend event (the v1 envelope) per line.
 */

const COLUMNS = ['id', 'source', 'channel', 'campaign', 'business_unit', 'amount', 'currency', 'period_start', 'period_end', 'occurred_at'] as const;
type Column = (typeof COLUMNS)[number];
const REQUIRED: readonly Column[] = ['source', 'amount', 'currency', 'period_start', 'period_end'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks. Each record with the line it starts on. */
export function csvRecords(text: string): Array<{ line: number; fields: string[] }> {
  const records: Array<{ line: number; fields: string[] }> = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const endRecord = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0] !== '') records.push({ line: start, fields });
    fields = [];
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else field += c;
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

/** A local day's midnight in the zone (the day after, for an inclusive end day), or the text as it is. */
function instantText(text: string, timeZone: string, endDay: boolean): string {
  if (!DAY.test(text)) return text;
  const day = DateTime.fromISO(text, { zone: timeZone });
  return day.isValid ? (endDay ? day.plus({ days: 1 }) : day).toISO({ suppressMilliseconds: true })! : text;
}

/** The spend events of a CSV export, as batch items numbered by line (validation names the fields). */
export function spendItemsFromCsv(text: string, timeZone: string): RawItem[] {
  const [header, ...rows] = csvRecords(text);
  if (header === undefined) throw new CliError('the CSV file is empty: it needs a header row');
  const index = new Map<Column, number>();
  header.fields.forEach((name, i) => {
    const column = name.trim().toLowerCase().replace(/[\s-]/g, '_');
    if (!(COLUMNS as readonly string[]).includes(column)) throw new CliError(`line ${header.line}: unknown column "${name}"; columns: ${COLUMNS.join(', ')}`);
    index.set(column as Column, i);
  });
  const missing = REQUIRED.filter((c) => !index.has(c));
  if (missing.length > 0) throw new CliError(`line ${header.line}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  return rows.map(({ line, fields }) => {
    const cell = (c: Column) => {
      const i = index.get(c);
      const value = i === undefined ? '' : (fields[i] ?? '').trim();
      return value === '' ? undefined : value;
    };
    const amount = cell('amount');
    const periodStart = instantText(cell('period_start') ?? '', timeZone, false);
    const periodEnd = instantText(cell('period_end') ?? '', timeZone, true);
    const key = [cell('source'), cell('channel'), cell('campaign'), cell('business_unit'), periodStart, periodEnd, cell('currency')].map((v) => v ?? '').join('\u0000');
    const event = {
      id: cell('id') ?? `spend-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`,
      type: 'spend',
      occurredAt: instantText(cell('occurred_at') ?? periodEnd, timeZone, false),
      ...Object.fromEntries((['source', 'channel', 'campaign'] as const).flatMap((c) => (cell(c) === undefined ? [] : [[c, cell(c)]]))),
      properties: {
        // a number only when it reads as one: anything else goes through as text, for validation to name
        amount: amount !== undefined && NUMBER.test(amount) ? Number(amount) : amount,
        currency: cell('currency'),
        periodStart,
        periodEnd,
        ...(cell('business_unit') === undefined ? {} : { businessUnit: cell('business_unit') }),
      },
    };
    return { value: event, line };
  });
}

export interface SpendImportSummary {
  file: string;
  rows: number;
  accepted: number;
  duplicates: number;
  issues: BatchIssue[];
}

/** Items of the file by its extension: `.csv`, else NDJSON. */
function itemsOf(file: string, timeZone: string): RawItem[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return extname(file).toLowerCase() === '.csv' ? spendItemsFromCsv(text, timeZone) : ndjsonItems(text);
}

/** Checks every row, then appends them all; nothing is written when any row is bad. */
export async function importSpend(store: EventStore, file: string, timeZone: string): Promise<SpendImportSummary> {
  const items = itemsOf(file, timeZone);
  const checked = validateBatch(items);
  const at = (i: number) => ({ index: i, ...(items[i]!.line === undefined ? {} : { line: items[i]!.line }) });
  const issues: BatchIssue[] = checked.ok ? [] : [...checked.issues];
  if (checked.ok) {
    const seen = new Map<string, number>();
    checked.events.forEach((e, i) => {
      if (e.type !== 'spend') issues.push({ ...at(i), field: 'type', message: `a spend export holds spend events, not ${e.type}` });
      const first = seen.get(e.id);
      if (first !== undefined) issues.push({ ...at(i), field: 'id', message: `the same id as line ${items[first]!.line ?? first + 1}: two rows for one source, period and currency (give each an id column)` });
      else seen.set(e.id, i);
    });
  }
  if (!checked.ok || issues.length > 0) return { file, rows: items.length, accepted: 0, duplicates: 0, issues };
  const written = await appendTouchpoints(store, checked.events);
  return { file, rows: items.length, accepted: written.accepted, duplicates: written.duplicates, issues: [] };
}

export function printSpendImport(summary: SpendImportSummary, json: boolean): void {
  if (json) printJson(summary);
  else if (summary.issues.length === 0) {
    process.stdout.write(`${summary.file}: ${formatCount(summary.rows)} spend rows, ${formatCount(summary.accepted)} written, ${formatCount(summary.duplicates)} already stored\n`);
  } else {
    process.stdout.write(`${summary.file}: nothing written; ${formatCount(summary.issues.length)} problem${summary.issues.length === 1 ? '' : 's'}:\n`);
    for (const i of summary.issues) process.stdout.write(`  line ${i.line ?? i.index + 1}: ${i.field === '' ? '' : `${i.field}: `}${i.message}\n`);
  }
  if (summary.issues.length > 0) process.exitCode = 1;
}
