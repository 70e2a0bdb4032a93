import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore } from './port.js';
import { openSqliteEventStore } from './sqlite/sqlite-event-store.js';

/** The configuration's choice of store (`server.eventStore` in @sluice/schemas). */
export type StoreChoice = { adapter: 'sqlite' } | { adapter: 'postgres'; url: string; schema: string };

/**
 * Opens the configured store: SQLite in the data directory, or a PostgreSQL
 * schema. The PostgreSQL adapter is an optional package (with pg as its peer),
 * loaded only then, so the embedded mode needs neither installed and the port
 * never depends on an adapter.
 */
export async function openConfiguredEventStore(choice: StoreChoice, dataDir: string): Promise<EventStore> {
  if (choice.adapter === 'postgres') {
    const { openPostgresEventStore } = await import('@sluice/event-store-postgres');
    return openPostgresEventStore({ connectionString: choice.url, schema: choice.schema });
  }
  mkdirSync(dataDir, { recursive: true });
  return openSqliteEventStore({ path: join(dataDir, 'events.sqlite') });
}
