import { closeSync, openSync, writeSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import type { RejectedRow } from './import.js';
import type { RowIssue } from './row-events.js';

/** One issue as a sentence: `payment occurredAt (column "Close Date"): does not match the format dd/MM/yyyy: "2017-06-01"`. */
export function describeIssue(issue: RowIssue): string {
  const where = [issue.eventType, issue.field].filter((part) => part !== '').join(' ');
  const column = issue.column === undefined ? '' : ` (column "${issue.column}")`;
  return `${where}${column}: ${issue.message}${issue.value === undefined ? '' : `: ${JSON.stringify(issue.value)}`}`;
}

/**
 * Every rejected row with its reasons, to fix and import again: CSV (for a
 * .csv path: the row's columns after `line` and `reason`, as the source had
 * them) or NDJSON (`{"line", "reasons", "row"}`, for any other path).
 */
export class RejectedRowsFile {
  private readonly fd: number;
  private readonly csv: boolean;
  private columns: string[] | undefined;
  rows = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    this.csv = /\.csv$/i.test(path);
  }

  write(rejected: RejectedRow): void {
    this.rows++;
    const reasons = rejected.issues.map(describeIssue);
    if (!this.csv) {
      writeSync(this.fd, JSON.stringify({ line: rejected.line, reasons, row: rejected.row }) + '\n');
      return;
    }
    // a CSV source's rows all have its header's columns; NDJSON rows are written with the first row's keys
    if (this.columns === undefined) {
      this.columns = Object.keys(rejected.row);
      writeSync(this.fd, stringify([['line', 'reason', ...this.columns]]));
    }
    const values = this.columns.map((column) => {
      const value = rejected.row[column];
      return value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
    });
    writeSync(this.fd, stringify([[String(rejected.line), reasons.join('; '), ...values]]));
  }

  close(): void {
    closeSync(this.fd);
  }
}
