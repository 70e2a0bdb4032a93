/**
 * Answers as text for people: the tables and figures every declared query's
 * `format` writes (the CLI prints them; scripts take --json instead).
 */

/** A plain text table: columns padded to their widest cell, numbers right-aligned. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

export const formatCount = (n: number) => n.toLocaleString('en-US');

/** A rate as a percentage; small ones keep a second decimal so they do not read as 0.0%. */
export const formatPercent = (rate: number | null) => (rate === null ? '-' : `${(rate * 100).toFixed(rate < 0.01 ? 2 : 1)}%`);

/** A time span for people: minutes, hours or days, whichever reads best. */
export function formatSpan(ms: number | null): string {
  if (ms === null) return '-';
  const hours = ms / 3_600_000;
  if (hours < 1) return `${Math.round(ms / 60_000)} min`;
  if (hours < 48) return `${hours.toFixed(1)} h`;
  return `${(hours / 24).toFixed(1)} d`;
}
