/**
 * The one close order of every role: each resource is registered as it is
 * opened, and closing undoes them in reverse. A follower is started after the
 * stores it reads and writes, so it stops before they close; a follower whose
 * last flush another follows (the projector, then the stage-table sink and the
 * lead-changes publisher) is started after those, so it stops first and they
 * finish on its last flush.
 */
export class Closer {
  private readonly undo: (() => Promise<void> | void)[] = [];
  private closing: Promise<void> | undefined;

  /** registers `close` and returns `value`, so opening and registering read as one step */
  add<T>(value: T, close: (value: T) => Promise<void> | void): T {
    this.undo.push(() => close(value));
    return value;
  }

  /** closes everything in reverse order of opening, once; every step runs even if one before it failed, and the first failure is thrown after */
  close(): Promise<void> {
    this.closing ??= (async () => {
      let failure: { err: unknown } | undefined;
      for (const step of this.undo.reverse()) {
        try {
          await step();
        } catch (err) {
          failure ??= { err };
        }
      }
      if (failure) throw failure.err;
    })();
    return this.closing;
  }

  /** runs `open` and, if it throws, closes what was opened so far and rethrows */
  async guard<T>(open: () => Promise<T>): Promise<T> {
    try {
      return await open();
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
  }
}
