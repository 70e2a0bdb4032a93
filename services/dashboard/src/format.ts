/** How numbers read on screen; the exact values ride along in data-value attributes. */

const count = new Intl.NumberFormat('en-US');
export const formatCount = (n: number | null | undefined) => (n === null || n === undefined ? '–' : count.format(n));

export const formatPercent = (rate: number | null | undefined, digits = 1) => (rate === null || rate === undefined || !Number.isFinite(rate) ? '–' : `${(rate * 100).toFixed(digits)}%`);

const UNITS: Array<[ms: number, suffix: string]> = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1000, 's'],
];

/** 2.5d, 3.1h, 12min: one unit, the largest that keeps the number at 1 or more. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms === 0) return '0';
  for (const [size, suffix] of UNITS) if (ms >= size) return `${(ms / size).toFixed(ms / size >= 10 ? 0 : 1)}${suffix}`;
  return `${Math.round(ms)}ms`;
}

export const formatMoney = (n: number) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(n);

export const formatTime = (iso: string, zone: string) =>
  new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: zone }).format(new Date(iso));
