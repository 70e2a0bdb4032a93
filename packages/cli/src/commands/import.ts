import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { EventStore } from '@sluice/event-store';
import { TouchpointConflictError, appendTouchpoints, conflictMessage, parseJsonItem, validateBatch } from '@sluice/touchpoint-log';
import type { BatchIssue, RawItem } from '@sluice/touchpoint-log';
import { ImportFileError, ImportMapError, RejectedRowsFile, importWithMap, loadImportMap } from '@sluice/import';
import type { MapImportSummary } from '@sluice/import';
import { CliError, formatCount, usageError } from '../output.js';
import { Progress } from '../progress.js';

export interface ImportOptions {
  file: string;
  batchSize: number;
  dryRun: boolean;
  /** most bad lines to list one by one; the rest are counted */
  maxReportedIssues: number;
}

export interface RejectedBatch {
  firstLine: number;
  lastLine: number;
  badLines: number;
}

export interface ImportSummary {
  file: string;
  lines: number;
  events: number;
  accepted: number;
  duplicates: number;
  rejectedEvents: number;
  rejectedBatches: RejectedBatch[];
  issues: BatchIssue[];
  issuesNotListed: number;
  elapsedMs: number;
  dryRun: boolean;
}

/**
 * Streams an NDJSON file into the store in batches: constant memory however
 * large the file, one atomic append per batch. A batch holding a bad line is
 * not written at all (its lines are reported); other batches go in. A line
 * whose id is already stored, or used by an earlier line of its batch, with a
 * different type or data is a bad line too (a conflict, found as its batch is
 * appended, so not by --dry-run). Re-running the same file is safe: ids
 * already stored with the same content count as duplicates.
 */
export async function importNdjson(store: EventStore, options: ImportOptions): Promise<ImportSummary> {
  let size: number;
  try {
    size = statSync(options.file).size;
  } catch {
    throw new CliError(`cannot read ${options.file}: no such file`);
  }
  const started = performance.now();
  const summary: ImportSummary = {
    file: options.file,
    lines: 0,
    events: 0,
    accepted: 0,
    duplicates: 0,
    rejectedEvents: 0,
    rejectedBatches: [],
    issues: [],
    issuesNotListed: 0,
    elapsedMs: 0,
    dryRun: options.dryRun,
  };
  const progress = new Progress('importing', size, 'bytes');
  const input = createReadStream(options.file);
  let bytesRead = 0;
  input.on('data', (chunk) => {
    bytesRead += chunk.length;
  });
  let batch: RawItem[] = [];

  const reject = (items: readonly RawItem[], badLines: number, issues: readonly BatchIssue[]) => {
    summary.rejectedEvents += items.length;
    summary.rejectedBatches.push({ firstLine: items[0]!.line!, lastLine: items[items.length - 1]!.line!, badLines });
    for (const issue of issues) {
      if (summary.issues.length < options.maxReportedIssues) summary.issues.push(issue);
      else summary.issuesNotListed++;
    }
  };

  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    summary.events += items.length;
    const validation = validateBatch(items);
    if (!validation.ok) return reject(items, validation.invalidItems, validation.issues);
    if (options.dryRun) return;
    let result;
    try {
      result = await appendTouchpoints(store, validation.events);
    } catch (err) {
      if (!(err instanceof TouchpointConflictError)) throw err;
      return reject(items, err.conflicts.length, conflictIssues(err, items));
    }
    summary.accepted += result.accepted;
    summary.duplicates += result.duplicates;
  };

  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const text of lines) {
    summary.lines++;
    if (text.trim().length === 0) continue;
    batch.push(parseJsonItem(text, summary.lines));
    if (batch.length >= options.batchSize) {
      await flush();
      progress.update(bytesRead, `${summary.events.toLocaleString('en-US')} events`);
    }
  }
  await flush();
  progress.done();
  summary.elapsedMs = performance.now() - started;
  return summary;
}

function conflictIssues(error: TouchpointConflictError, items: readonly RawItem[]): BatchIssue[] {
  return error.conflicts.map((conflict) => ({
    index: conflict.index,
    line: items[conflict.index]!.line!,
    field: 'id',
    message: conflictMessage(conflict, (earlier) => `line ${items[earlier]!.line!}`),
  }));
}

export interface MappedImportOptions {
  file: string;
  /** a map file (JSON or YAML) or a ready map's name */
  map: string;
  dryRun: boolean;
  skipInvalid: boolean;
  delimiter?: string | undefined;
  /** where every rejected row goes with its reasons (.csv: CSV, else NDJSON) */
  errorsFile?: string | undefined;
  timeZone: string;
}

/**
 * `sluice import FILE --map MAP`: someone else's export (CSV, NDJSON, gzipped
 * or not) through a map. A dry run opens no store at all.
 */
export async function importMappedFile(openStore: () => Promise<EventStore>, options: MappedImportOptions): Promise<MapImportSummary> {
  // a tab is hard to type in a shell: --delimiter tab (or \t as two characters) means one
  const delimiter = options.delimiter === '\\t' || options.delimiter?.toLowerCase() === 'tab' ? '\t' : options.delimiter;
  if (delimiter !== undefined && delimiter.length !== 1) throw usageError(`--delimiter takes one character, e.g. ";", or tab; got "${options.delimiter}"`);
  let size: number;
  try {
    size = statSync(options.file).size;
  } catch {
    throw new CliError(`cannot read ${options.file}: no such file`);
  }
  const fromImport = (err: unknown) => (err instanceof ImportMapError || err instanceof ImportFileError ? new CliError(`${options.file}: ${err.message}`) : err);
  let map;
  try {
    map = loadImportMap(options.map);
  } catch (err) {
    throw err instanceof ImportMapError ? new CliError(err.message) : err;
  }
  const errors = options.errorsFile === undefined ? undefined : new RejectedRowsFile(options.errorsFile);
  const store = options.dryRun ? undefined : await openStore();
  const progress = new Progress('importing', undefined, 'rows');
  try {
    return await importWithMap(
      store,
      { name: options.file, open: () => createReadStream(options.file) },
      {
        map,
        mapName: options.map,
        defaultTimeZone: options.timeZone,
        dryRun: options.dryRun,
        skipInvalid: options.skipInvalid,
        delimiter,
        batchSize: 5_000,
        ...(errors === undefined ? {} : { onRejectedRow: (row) => errors.write(row) }),
        onProgress: (rows) => progress.update(rows, `(${formatCount(size)} bytes)`),
      },
    );
  } catch (err) {
    throw fromImport(err);
  } finally {
    progress.done();
    errors?.close();
    await store?.close();
  }
}
