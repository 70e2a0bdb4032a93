import { formatCount, formatDuration } from '../output.js';
import type { MapImportSummary } from '@sluice/import';
import type { ImportSummary } from './import.js';

export function printImportSummary(s: ImportSummary): void {
  const rate = s.elapsedMs > 0 ? Math.round((s.events / s.elapsedMs) * 1000) : 0;
  const verb = s.dryRun ? 'checked (dry run: nothing written)' : `${formatCount(s.accepted)} written, ${formatCount(s.duplicates)} already stored`;
  console.log(`${s.file}: ${formatCount(s.lines)} lines, ${formatCount(s.events)} events ${verb} in ${formatDuration(s.elapsedMs)} (${formatCount(rate)} events/s)`);
  if (s.rejectedBatches.length === 0) return;
  console.log(`\n${formatCount(s.rejectedEvents)} events in ${s.rejectedBatches.length} batch(es) NOT written because they hold bad lines:`);
  for (const b of s.rejectedBatches) console.log(`  lines ${b.firstLine}-${b.lastLine}: ${b.badLines} bad`);
  console.log('\nbad lines:');
  for (const issue of s.issues) console.log(`  line ${issue.line}: ${issue.field ? `${issue.field}: ` : ''}${issue.message}`);
  if (s.issuesNotListed > 0) console.log(`  ... and ${s.issuesNotListed} more`);
  console.log('\nfix them and run the same import again: events already stored are skipped.');
}

/** Kinds of error listed one per line: with the header and the advice, a screenful. */
const ERROR_GROUPS_SHOWN = 15;

/** What a mapped import did, its date-only columns, and its errors grouped so a screenful says what to fix. */
export function printMapImportSummary(s: MapImportSummary, errorsFile: string | undefined): void {
  const rate = s.elapsedMs > 0 ? Math.round((s.rows / s.elapsedMs) * 1000) : 0;
  const shape = s.format === 'csv' ? `CSV, delimiter ${JSON.stringify(s.delimiter)}` : 'NDJSON';
  const outcome = {
    written: `${formatCount(s.written)} written, ${formatCount(s.duplicates)} already stored`,
    checked: 'checked (dry run: nothing written)',
    refused: `NOTHING written: ${formatCount(s.rejectedRows)} row(s) are bad and the import is atomic (--skip-invalid writes the good rows)`,
  }[s.outcome];
  console.log(`${s.file} (${shape}${s.gzip ? ', gzip' : ''}) through ${s.map}: ${formatCount(s.rows)} rows, ${formatCount(s.events)} events; ${outcome} in ${formatDuration(s.elapsedMs)} (${formatCount(rate)} rows/s)`);
  if (s.rowsWithoutEvents > 0) console.log(`${formatCount(s.rowsWithoutEvents)} row(s) gave no event (no entry of the map applied to them, or a single-field line the map skips)`);
  for (const d of s.dateOnly) console.log(`column "${d.column}": ${formatCount(d.count)} value(s) had no time of day, read as local midnight in ${d.timeZone}`);
  if (s.rejectedRows === 0) return;
  const verb = s.outcome === 'refused' ? 'bad' : 'rejected (not written)';
  console.log(`\n${formatCount(s.rejectedRows)} row(s) ${verb}:`);
  for (const g of s.errors.slice(0, ERROR_GROUPS_SHOWN)) {
    const where = [g.eventType, g.field].filter((part) => part !== '').join(' ');
    const column = g.column === undefined ? '' : ` (column "${g.column}")`;
    const examples = g.examples.length === 0 ? '' : `, e.g. ${g.examples.map((e) => JSON.stringify(e)).join(', ')}`;
    const lines = `line${g.lines.length > 1 ? 's' : ''} ${g.lines.join(', ')}${g.count > g.lines.length ? ', ...' : ''}`;
    console.log(`  ${formatCount(g.count)} × ${where}${column}: ${g.message} (${lines}${examples})`);
  }
  const more = s.errors.length - ERROR_GROUPS_SHOWN;
  if (more > 0 || s.ungroupedIssues > 0) console.log(`  ... and ${more > 0 ? `${formatCount(more)} more kind(s) of error` : ''}${more > 0 && s.ungroupedIssues > 0 ? ' and ' : ''}${s.ungroupedIssues > 0 ? `${formatCount(s.ungroupedIssues)} more issue(s)` : ''}`);
  console.log(errorsFile === undefined ? '\n--errors FILE writes every rejected row with its reasons.' : `\nevery rejected row, with its reasons: ${errorsFile}`);
}
