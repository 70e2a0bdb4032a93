export interface Figure {
  name: string;
  value: number;
  /** the raw engine doing the same work in the same run */
  baseline?: number;
  baselineName?: string;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

/** Prints each figure beside its same-run baseline and the ratio. */
export function printFigures(title: string, figures: readonly Figure[]): void {
  console.log(`\n${title}`);
  const rows = figures.map((f) => [f.name, fmt(f.value), f.baseline === undefined ? '' : `${fmt(f.baseline)} (${f.baselineName})`, f.baseline === undefined ? '' : (f.value / f.baseline).toFixed(2)]);
  const headers = ['measure', 'sluice', 'baseline (same run)', 'ratio'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(headers));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
}
