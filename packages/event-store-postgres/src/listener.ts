import pg from 'pg';
import { APPEND_CHANNEL } from './append.js';

export interface AppendListenerOptions {
  connectionString: string;
  schema: string;
  /** Called for every append to this schema, by any process, and whenever listening (re)starts. */
  onAppend: () => void;
  reconnectDelayMs: number;
}

/**
 * One dedicated connection per store that LISTENs for appends, so live
 * subscriptions wake as soon as another process commits. It only makes
 * subscriptions faster: they still poll, so a lost connection delays them by
 * at most one poll interval while it reconnects.
 *
 * Whenever LISTEN takes effect (first start or after a reconnect), it calls
 * onAppend once: appends committed while nobody was listening sent
 * notifications no one received, and one read now covers them all.
 */
export class AppendListener {
  readonly #options: AppendListenerOptions;
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #started = false;
  #closed = false;

  constructor(options: AppendListenerOptions) {
    this.#options = options;
  }

  /** Idempotent; the first call opens the connection. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined;
    // 'end' fires on our own end() too; #closed makes #lost ignore it.
    await client?.end();
  }

  #connect(): void {
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      application_name: listenerApplicationName(this.#options.schema),
    });
    let lost = false;
    const onLost = (err: unknown) => {
      if (lost) return;
      lost = true;
      this.#lost(client, err);
    };
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('connection ended')));
    client.on('notification', (message) => {
      if (message.channel === APPEND_CHANNEL && message.payload === this.#options.schema) this.#options.onAppend();
    });
    this.#connecting = (async () => {
      try {
        await client.connect();
        await client.query(`LISTEN ${pg.escapeIdentifier(APPEND_CHANNEL)}`);
      } catch (err) {
        onLost(err);
        return;
      } finally {
        this.#connecting = undefined;
      }
      if (this.#closed) {
        lost = true;
        await client.end();
        return;
      }
      this.#client = client;
      this.#options.onAppend();
    })();
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#client === client) this.#client = undefined;
    client.end().catch(() => {
      // already broken; nothing left to release
    });
    if (this.#closed) return;
    console.warn(
      `event-store: LISTEN connection for schema ${this.#options.schema} lost (${String(err)}); ` +
        `subscriptions poll until it is back, retrying in ${this.#options.reconnectDelayMs} ms`,
    );
    this.#retry = setTimeout(() => {
      if (!this.#closed) this.#connect();
    }, this.#options.reconnectDelayMs);
  }
}

/** Names the session in pg_stat_activity (PostgreSQL truncates it to 63 bytes). */
export function listenerApplicationName(schema: string): string {
  return `sluice-event-store-listener:${schema}`;
}
