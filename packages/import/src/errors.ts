import type { RowIssue } from './row-events.js';

/** Rejected rows' issues that say the same thing: one event type, one field, one message (and the column that fed it). */
export interface ErrorGroup {
  eventType: string;
  field: string;
  column?: string;
  message: string;
  /** issues in the group (a row counts once per issue it has) */
  count: number;
  /** the first lines it was found on */
  lines: number[];
  /** the first distinct texts that caused it, when a column's text did */
  examples: string[];
}

const LINES_KEPT = 5;
const EXAMPLES_KEPT = 3;
/** Distinct groups kept: a file with more has a problem a screenful already shows. */
const GROUPS_KEPT = 1000;

/**
 * Groups issues so that 16,792 lines repeating two messages read as two
 * lines: the group's count, its first lines and a few of the texts behind it.
 */
export class ErrorGroups {
  private readonly byKey = new Map<string, ErrorGroup>();
  ungrouped = 0;

  add(row: { line: number; issues: readonly RowIssue[] }): void {
    for (const issue of row.issues) {
      const key = `${issue.eventType}\u0000${issue.field}\u0000${issue.column ?? ''}\u0000${issue.message}`;
      let group = this.byKey.get(key);
      if (group === undefined) {
        if (this.byKey.size >= GROUPS_KEPT) {
          this.ungrouped++;
          continue;
        }
        group = { eventType: issue.eventType, field: issue.field, ...(issue.column === undefined ? {} : { column: issue.column }), message: issue.message, count: 0, lines: [], examples: [] };
        this.byKey.set(key, group);
      }
      group.count++;
      if (group.lines.length < LINES_KEPT && group.lines.at(-1) !== row.line) group.lines.push(row.line);
      if (issue.value !== undefined && group.examples.length < EXAMPLES_KEPT && !group.examples.includes(issue.value)) group.examples.push(issue.value);
    }
  }

  /** The groups, the most frequent first (ties: the one found first). */
  groups(): ErrorGroup[] {
    return [...this.byKey.values()].sort((a, b) => b.count - a.count || a.lines[0]! - b.lines[0]!);
  }
}
