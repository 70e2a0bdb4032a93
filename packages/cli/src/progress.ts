import { formatCount } from './output.js';

/**
 * A progress line on stderr when it is a terminal (redrawn at most 10 times a
 * second); silent otherwise, so piped output and --json stay clean.
 */
export class Progress {
  private lastDraw = 0;
  private readonly started = performance.now();
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    private readonly unit: string,
    enabled = process.stderr.isTTY === true,
  ) {
    this.enabled = enabled;
  }

  update(done: number, extra = ''): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    let text = `${this.label} ${formatCount(done)} ${this.unit}`;
    if (this.total !== undefined && this.total > 0) {
      const ratio = Math.min(1, done / this.total);
      const width = 24;
      const filled = Math.round(ratio * width);
      text = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%`;
    }
    process.stderr.write(`\r${text}  ${formatCount(rate)} ${this.unit}/s ${extra}\x1b[K`);
  }

  done(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }
}
