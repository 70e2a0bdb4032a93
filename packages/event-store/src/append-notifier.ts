/**
 * In-process "something was appended" signal. Adapters fire it after a commit
 * so live subscriptions wake at once instead of waiting for their next poll;
 * polling still covers writers in other processes.
 */
export class AppendNotifier {
  readonly #listeners = new Set<() => void>();

  /** Returns the unsubscribe function. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
