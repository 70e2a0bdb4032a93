import { formatCount, formatDuration } from '../output.js';
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
