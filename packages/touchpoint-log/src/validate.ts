import { parseEvent } from '@sluice/schemas';
import type { SluiceEvent } from '@sluice/schemas';

/** One input item of a batch: a parsed JSON value, or the reason it did not parse. */
export type RawItem = { value: unknown; line?: number } | { malformed: string; line?: number };

export interface BatchIssue {
  /** 0-based index of the item in the batch */
  index: number;
  /** 1-based line number, for NDJSON input */
  line?: number;
  field: string;
  message: string;
}

export type BatchValidation = { ok: true; events: SluiceEvent[] } | { ok: false; issues: BatchIssue[]; invalidItems: number };

/**
 * Validates a whole batch before anything is written: a batch is atomic, so
 * one bad item rejects it, and every bad item is reported (index, line, field)
 * so a producer can fix them all in one go.
 */
export function validateBatch(items: readonly RawItem[]): BatchValidation {
  const events: SluiceEvent[] = [];
  const issues: BatchIssue[] = [];
  let invalidItems = 0;
  items.forEach((item, index) => {
    const at = item.line === undefined ? { index } : { index, line: item.line };
    if ('malformed' in item) {
      invalidItems++;
      issues.push({ ...at, field: '', message: `malformed JSON: ${item.malformed}` });
      return;
    }
    const result = parseEvent(item.value);
    if (result.ok) events.push(result.event);
    else {
      invalidItems++;
      for (const issue of result.issues) issues.push({ ...at, ...issue });
    }
  });
  return invalidItems === 0 ? { ok: true, events } : { ok: false, issues, invalidItems };
}

/** Splits NDJSON text into items, numbering lines from `firstLine`; blank lines are skipped. */
export function ndjsonItems(text: string, firstLine = 1): RawItem[] {
  const items: RawItem[] = [];
  let line = firstLine;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const content = text.slice(start, end).trim();
    if (content.length > 0) items.push(parseJsonItem(content, line));
    line++;
    start = end + 1;
  }
  return items;
}

export function parseJsonItem(text: string, line?: number): RawItem {
  try {
    const value: unknown = JSON.parse(text);
    return line === undefined ? { value } : { value, line };
  } catch (err) {
    const malformed = (err as Error).message;
    return line === undefined ? { malformed } : { malformed, line };
  }
}
