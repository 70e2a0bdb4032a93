import type { EventStore } from '@sluice/event-store';
import type { SluiceEvent } from '@sluice/schemas';
import { TouchpointConflictError, appendTouchpoints, conflictMessage, validateBatch } from '@sluice/touchpoint-log';
import type { RawItem } from '@sluice/touchpoint-log';
import { ErrorGroups } from './errors.js';
import type { ErrorGroup } from './errors.js';
import { ImportMapError } from './map.js';
import type { ImportMap } from './map.js';
import { columnOfField, compileMap, mapRow } from './row-events.js';
import type { CompiledMap, DateOnlyCounts, RowIssue } from './row-events.js';
import { openSourceTable } from './rows.js';
import type { SourceRecord, SourceTable } from './rows.js';

/** Where the rows come from: opened once per pass (an atomic import of a large source reads it twice: check, then write). */
export interface ImportSource {
  name: string;
  open: () => AsyncIterable<Buffer>;
}

export interface MapImportOptions {
  map: ImportMap;
  /** how the map was named (a file, a ready map), for the report */
  mapName: string;
  /** the zone times without an offset are read in when the map names none: the business time zone */
  defaultTimeZone: string;
  /** check every row, write nothing */
  dryRun: boolean;
  /** write the good rows and reject the bad ones; otherwise one bad row means nothing is written */
  skipInvalid: boolean;
  /** CSV delimiter; otherwise the map's, otherwise detected */
  delimiter?: string | undefined;
  /** rows per append */
  batchSize: number;
  /** every rejected row, with its issues (for an errors file) */
  onRejectedRow?: (row: RejectedRow) => void | Promise<void>;
  onProgress?: (rows: number) => void;
  /** most checked events an atomic import holds to write without reading the source again (default 50,000) */
  holdEvents?: number;
}

export interface RejectedRow {
  line: number;
  /** the row as read: a CSV row by its header, an NDJSON line as its object */
  row: Record<string, unknown>;
  issues: RowIssue[];
}

export interface MapImportSummary {
  file: string;
  map: string;
  format: 'csv' | 'ndjson';
  gzip: boolean;
  delimiter?: string;
  timeZone: string;
  rows: number;
  /** events made from the rows (all of them checked; on a write, those of rows not rejected were appended) */
  events: number;
  /** rows that gave no event: every entry skipped them (a `when`, a type not in a table with `otherwise: skip`), or single-field lines the map skips */
  rowsWithoutEvents: number;
  written: number;
  duplicates: number;
  rejectedRows: number;
  /** 'written': events appended; 'checked': a dry run; 'refused': rows were rejected and the import was atomic, so nothing was written */
  outcome: 'written' | 'checked' | 'refused';
  errors: ErrorGroup[];
  /** rejected rows' issues beyond those grouped (when there are more distinct groups than kept) */
  ungroupedIssues: number;
  /** time columns that carried dates without a time of day: read as local midnight in their zone */
  dateOnly: Array<{ column: string; timeZone: string; count: number }>;
  dryRun: boolean;
  skipInvalid: boolean;
  elapsedMs: number;
}

interface CheckedBatch {
  /** valid events of the rows kept, in row order, and the row each came from */
  events: SluiceEvent[];
  eventRows: number[];
  rejected: RejectedRow[];
  rowsWithoutEvents: number;
  madeEvents: number;
}

/**
 * Imports rows through a map: each row becomes its events, every event is
 * checked by the same validation as the API's (touchpoint-log), and written by
 * the same idempotent append (an id already stored with the same content is a
 * duplicate, so re-importing a file is a no-op). Atomic by default: the whole
 * source is checked first and nothing is written if a row is bad;
 * `skipInvalid` writes the good rows batch by batch and reports the others.
 */
export async function importWithMap(store: EventStore | undefined, source: ImportSource, options: MapImportOptions): Promise<MapImportSummary> {
  const started = performance.now();
  const compiled = compileMap(options.map, options.defaultTimeZone);
  const errors = new ErrorGroups();
  const dateOnly: DateOnlyCounts = new Map();
  let rejectedRows = 0;
  // atomic: the whole source is checked before anything is written
  const atomic = !options.dryRun && !options.skipInvalid;

  // an atomic import keeps the checked batches of a source small enough to hold, so it need not read it again to write
  const holdLimit = options.holdEvents ?? HELD_EVENTS;
  let held: CheckedBatch[] | undefined = [];
  let heldEvents = 0;
  const first = await readPass(source, compiled, options, dateOnly, async (batch) => {
    rejectedRows += batch.rejected.length;
    for (const row of batch.rejected) {
      errors.add(row);
      await options.onRejectedRow?.(row);
    }
    if (atomic && held !== undefined) {
      heldEvents += batch.events.length;
      if (heldEvents <= holdLimit && rejectedRows === 0) held.push(batch);
      else held = undefined;
    }
    if (options.dryRun || atomic) return { written: 0, duplicates: 0 };
    return appendKeeping(store!, batch, async (row) => {
      rejectedRows++;
      errors.add(row);
      await options.onRejectedRow?.(row);
    });
  });
  let { written, duplicates } = first;
  let outcome: MapImportSummary['outcome'] = options.dryRun ? 'checked' : rejectedRows > 0 && !options.skipInvalid ? 'refused' : 'written';
  if (atomic && rejectedRows === 0) {
    // the check found every row good: now write, batch by batch (a conflict with stored ids is only found here)
    const writeBatch = async (batch: CheckedBatch) => {
      try {
        return await appendTouchpoints(store!, batch.events).then((r) => ({ written: r.accepted, duplicates: r.duplicates }));
      } catch (err) {
        if (!(err instanceof TouchpointConflictError)) throw err;
        for (const row of conflictRows(err, batch)) {
          rejectedRows++;
          errors.add(row);
          await options.onRejectedRow?.(row);
        }
        return { written: 0, duplicates: 0 };
      }
    };
    const second = held === undefined ? await readPass(source, compiled, options, new Map(), writeBatch) : await writeHeld(held, writeBatch);
    written = second.written;
    duplicates = second.duplicates;
    outcome = 'written';
  }
  const { table } = first;
  return {
    file: source.name,
    map: options.mapName,
    format: table.format,
    gzip: table.gzip,
    ...(table.delimiter === undefined ? {} : { delimiter: table.delimiter }),
    timeZone: compiled.timeZone,
    rows: first.rows,
    events: first.events,
    rowsWithoutEvents: first.rowsWithoutEvents,
    written,
    duplicates,
    rejectedRows,
    outcome,
    errors: errors.groups(),
    ungroupedIssues: errors.ungrouped,
    dateOnly: [...dateOnly.values()],
    dryRun: options.dryRun,
    skipInvalid: options.skipInvalid,
    elapsedMs: performance.now() - started,
  };
}

/** Up to this many checked events an atomic import holds between its check and its write (a few tens of MB). */
const HELD_EVENTS = 50_000;

async function writeHeld(batches: readonly CheckedBatch[], write: (batch: CheckedBatch) => Promise<{ written: number; duplicates: number }>) {
  const total = { written: 0, duplicates: 0 };
  for (const batch of batches) {
    const result = await write(batch);
    total.written += result.written;
    total.duplicates += result.duplicates;
  }
  return total;
}

/** Appends a batch's good rows; rows whose ids conflict with stored events are rejected and the rest appended again. */
async function appendKeeping(store: EventStore, batch: CheckedBatch, reject: (row: RejectedRow) => Promise<void>): Promise<{ written: number; duplicates: number }> {
  try {
    const result = await appendTouchpoints(store, batch.events);
    return { written: result.accepted, duplicates: result.duplicates };
  } catch (err) {
    if (!(err instanceof TouchpointConflictError)) throw err;
    const rows = conflictRows(err, batch);
    for (const row of rows) await reject(row);
    const refused = new Set(rows.map((row) => row.line));
    const keep = batch.events.map((_, i) => !refused.has(batch.eventRows[i]!));
    const rest: CheckedBatch = { ...batch, events: batch.events.filter((_, i) => keep[i]), eventRows: batch.eventRows.filter((_, i) => keep[i]), rejected: [] };
    return rest.events.length === 0 ? { written: 0, duplicates: 0 } : appendKeeping(store, rest, reject);
  }
}

function conflictRows(error: TouchpointConflictError, batch: CheckedBatch): RejectedRow[] {
  const byLine = new Map<number, RejectedRow>();
  for (const conflict of error.conflicts) {
    const line = batch.eventRows[conflict.index]!;
    const event = batch.events[conflict.index]!;
    const row = byLine.get(line) ?? { line, row: {}, issues: [] };
    row.issues.push({ eventType: event.type, field: 'id', message: conflictMessage(conflict, (earlier) => `an event of line ${batch.eventRows[earlier]!}`) });
    byLine.set(line, row);
  }
  return [...byLine.values()];
}

interface PassResult {
  table: SourceTable;
  rows: number;
  events: number;
  rowsWithoutEvents: number;
  written: number;
  duplicates: number;
}

async function readPass(
  source: ImportSource,
  compiled: CompiledMap,
  options: MapImportOptions,
  dateOnly: DateOnlyCounts,
  onBatch: (batch: CheckedBatch) => Promise<{ written: number; duplicates: number }>,
): Promise<PassResult> {
  const table = await openSourceTable(source.open(), { delimiter: options.delimiter ?? options.map.csv.delimiter, batchSize: options.batchSize });
  const project = projector(table, compiled);
  const result: PassResult = { table, rows: 0, events: 0, rowsWithoutEvents: 0, written: 0, duplicates: 0 };
  for await (const records of table.batches) {
    const batch = checkBatch(records, compiled, project, dateOnly, table.header, options.map.csv.singleFieldRows === 'skip');
    result.rows += records.length;
    result.events += batch.madeEvents;
    result.rowsWithoutEvents += batch.rowsWithoutEvents;
    const appended = await onBatch(batch);
    result.written += appended.written;
    result.duplicates += appended.duplicates;
    options.onProgress?.(result.rows);
  }
  return result;
}

type Projector = (record: Exclude<SourceRecord, { malformed: string }>) => Array<string | undefined>;

/** How a record's fields line up with the map's columns; a CSV whose header lacks a column the map reads is refused before any row. */
function projector(table: SourceTable, compiled: CompiledMap): Projector {
  if (table.header !== undefined) {
    const header = table.header;
    const missing = compiled.requiredColumns.filter((column) => !header.includes(column));
    if (missing.length > 0) {
      const named = missing.map((column) => `"${column}"${closestHint(column, header)}`).join(', ');
      throw new ImportMapError(`the map reads columns the file's header does not have: ${named}; the header has: ${header.map((h) => `"${h}"`).join(', ')}`);
    }
    const indexes = compiled.columns.map((column) => header.indexOf(column));
    return (record) => ('values' in record ? indexes.map((i) => record.values[i]) : []);
  }
  return (record) => ('object' in record ? compiled.columns.map((column) => textOf(record.object[column])) : []);
}

function closestHint(column: string, header: readonly string[]): string {
  const near = header.find((h) => h.trim().toLowerCase() === column.trim().toLowerCase());
  return near === undefined ? '' : ` (did you mean "${near}"?)`;
}

const textOf = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);

function rowOf(record: SourceRecord, header: readonly string[] | undefined): Record<string, unknown> {
  if ('object' in record) return record.object;
  if ('values' in record && header !== undefined) return Object.fromEntries(header.map((name, i) => [name, record.values[i] ?? '']));
  return {};
}

/** Maps a batch of records to events and validates them; a row with any issue is rejected whole. */
function checkBatch(
  records: readonly SourceRecord[],
  compiled: CompiledMap,
  project: Projector,
  dateOnly: DateOnlyCounts,
  header: readonly string[] | undefined,
  skipSingleFieldRows: boolean,
): CheckedBatch {
  const items: RawItem[] = [];
  const itemRow: number[] = [];
  const itemEntry: number[] = [];
  const rowIssues = new Map<number, RowIssue[]>();
  let rowsWithoutEvents = 0;
  // each row's fields, to quote the text behind a validation issue
  const rowFields = new Map<number, ReadonlyArray<string | undefined>>();
  records.forEach((record, rowIndex) => {
    if ('malformed' in record) return rowIssues.set(rowIndex, [{ eventType: '(row)', field: '', message: record.malformed }]);
    if ('values' in record && header !== undefined && record.values.length !== header.length) {
      if (skipSingleFieldRows && record.values.length === 1) return void rowsWithoutEvents++;
      return rowIssues.set(rowIndex, [{ eventType: '(row)', field: '', message: `has ${record.values.length} fields where the header has ${header.length} (a delimiter or quote out of place?)` }]);
    }
    const fields = project(record);
    rowFields.set(rowIndex, fields);
    const mapped = mapRow(compiled, fields, dateOnly);
    if (mapped.issues.length > 0) rowIssues.set(rowIndex, mapped.issues);
    if (mapped.events.length === 0 && mapped.issues.length === 0) rowsWithoutEvents++;
    for (const { entry, event } of mapped.events) {
      items.push({ value: event, line: record.line });
      itemRow.push(rowIndex);
      itemEntry.push(entry);
    }
  });
  const validation = validateBatch(items);
  if (!validation.ok) {
    for (const issue of validation.issues) {
      const rowIndex = itemRow[issue.index]!;
      const column = columnOfField(compiled, itemEntry[issue.index]!, issue.field);
      const event = items[issue.index]! as { value: { type: string } };
      const issues = rowIssues.get(rowIndex) ?? [];
      const value = column === undefined ? undefined : rowFields.get(rowIndex)?.[compiled.columns.indexOf(column)];
      issues.push({ eventType: event.value.type, field: issue.field, ...(column === undefined ? {} : { column }), message: issue.message, ...(value === undefined ? {} : { value }) });
      rowIssues.set(rowIndex, issues);
    }
  }
  const keptItems = items.filter((_, i) => !rowIssues.has(itemRow[i]!));
  const kept = validation.ok && keptItems.length === items.length ? validation : validateBatch(keptItems);
  if (!kept.ok) throw new Error('rows without issues failed validation on the second look');
  return {
    events: kept.events,
    eventRows: keptItems.map((item) => item.line!),
    rejected: [...rowIssues]
      .sort(([a], [b]) => a - b)
      .map(([rowIndex, issues]) => ({ line: records[rowIndex]!.line, row: rowOf(records[rowIndex]!, header), issues })),
    rowsWithoutEvents,
    madeEvents: items.length,
  };
}
