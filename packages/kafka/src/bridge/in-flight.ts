/**
 * A bound on events being appended at once, across partitions. A batch that
 * does not fit waits for room (one bigger than the whole bound runs alone),
 * and the caller pauses fetching its partition meanwhile.
 */
export class InFlightLimit {
  #inFlight = 0;
  #waiters: (() => void)[] = [];

  constructor(readonly max: number) {}

  get current(): number {
    return this.#inFlight;
  }

  /** Resolves with the release function once `count` fits; `onWait` runs if it has to wait and its result runs when it may go on. */
  async acquire(count: number, onWait: () => () => void): Promise<() => void> {
    if (!this.#fits(count)) {
      const done = onWait();
      while (!this.#fits(count)) await new Promise<void>((resolve) => this.#waiters.push(resolve));
      done();
    }
    this.#inFlight += count;
    return () => {
      this.#inFlight -= count;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    };
  }

  #fits(count: number): boolean {
    return this.#inFlight === 0 || this.#inFlight + count <= this.max;
  }
}
