/** How the CLI talks to people and to scripts. */

/** A failure the user can fix: printed as one clear message, exit code 1 (2 for usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, 2);

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

// the answers' text is written where each query is declared (@sluice/analytics); the CLI's other output uses the same
// (its text module alone: the package's index loads ClickHouse, which a command that queries nothing should not wait for)
export { formatCount, formatPercent, formatSpan, formatTable } from '@sluice/analytics/text';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
