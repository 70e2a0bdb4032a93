import { formatCount, formatDuration } from './output.js';

/**
 * A progress line on stderr when it is a terminal (redrawn at most 10 times a
 * second); silent otherwise, so piped output and --json stay clean.
 */
export class Progress {
  private lastDraw = 0;
  readonly started = performance.now();
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    /** the amount the bar is full at; a catch-up learns it as its followers start */
    public total: number | undefined,
    private readonly unit: string,
    enabled = process.stderr.isTTY === true,
  ) {
    this.enabled = enabled;
  }

  get shown(): boolean {
    return this.enabled;
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

interface Followed {
  /** where it started; undefined until its first position is told (meanwhile taken to be where the earliest other one started) */
  from: number | undefined;
  head: number;
  position: number | undefined;
}

/**
 * One progress line for catching several followers up (the read models, the
 * ClickHouse touchpoints, the stage tables): the bar is the share of their
 * work done (each one's positions to go, added up), and events/s counts the
 * log's events brought through every one of them per second of wall time (the
 * span of the log to catch up, times the share done), so the slowest, the
 * ClickHouse writes included, sets the figure.
 */
export class CatchUpProgress {
  private readonly followers = new Map<string, Followed>();
  private readonly line: Progress;
  private finished = false;

  constructor(label = 'catching up with the log', enabled = process.stderr.isTTY === true) {
    this.line = new Progress(label, 0, 'events', enabled);
  }

  /**
   * Counts a follower up to `head` (a log position) from `from`, or from the
   * first position it tells; the returned function takes its position as it
   * moves. Following a name again (its start now known) keeps its place on the line.
   */
  follow(name: string, head: number, from?: number): (position: number) => void {
    const followed: Followed = { from, head, position: from };
    this.followers.set(name, followed);
    return (position) => {
      followed.from ??= position;
      followed.head = Math.max(followed.head, followed.from);
      followed.position = Math.min(followed.head, Math.max(followed.position ?? position, position));
      this.draw();
    };
  }

  /** Each follower's start, position and head; one not heard from yet has all of its work to do from where the earliest known one started. */
  private counted(): Array<{ name: string; from: number; position: number; head: number }> {
    const known = [...this.followers.values()].flatMap((f) => (f.from === undefined ? [] : [f.from]));
    if (known.length === 0) return [];
    const earliest = Math.min(...known);
    return [...this.followers].map(([name, f]) => {
      const from = Math.min(f.from ?? earliest, f.head);
      return { name, from, position: f.position ?? from, head: f.head };
    });
  }

  /** the log's positions to bring through every follower */
  private span(): number {
    const all = this.counted();
    return all.length === 0 ? 0 : Math.max(...all.map((f) => f.head)) - Math.min(...all.map((f) => f.from));
  }

  private share(): number {
    let work = 0;
    let done = 0;
    for (const f of this.counted()) {
      work += f.head - f.from;
      done += f.position - f.from;
    }
    return work === 0 ? 1 : done / work;
  }

  private draw(): void {
    const span = this.span();
    this.line.total = span;
    const each = this.counted().map((f) => `${f.name} ${f.head > f.from ? Math.floor(((f.position - f.from) / (f.head - f.from)) * 100) : 100}%`);
    this.line.update(span * this.share(), `(${each.join(', ')})`);
  }

  /** Clears the line and, when there was something to catch up (and `summary`), says how much and how fast, every follower counted. Once. */
  done(summary = true): void {
    if (this.finished) return;
    this.finished = true;
    this.line.done();
    const span = this.span();
    if (!summary || !this.line.shown || span === 0) return;
    const ms = performance.now() - this.line.started;
    const rate = Math.round((span * this.share()) / Math.max(ms / 1000, 1e-9));
    process.stderr.write(`caught up ${formatCount(span)} events in ${formatDuration(ms)}: ${formatCount(rate)} events/s through ${[...this.followers.keys()].join(', ')}\n`);
  }
}
