import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import type { EventStoreChoice } from '@sluice/schemas';

/**
 * Opens the configured store: SQLite in the data directory, or a PostgreSQL
 * schema. The PostgreSQL adapter (with pg) is loaded only then, so the
 * embedded mode never loads a driver it does not use. It lives here, in the
 * composition, because choosing an adapter is the one thing the port must not
 * know (the port importing its adapters made the workspace cyclic).
 *
 * This module is also what a what-if worker thread loads to open its own
 * store (`storeOpener`): keep it free of anything heavier than the stores.
 */
export async function openConfiguredEventStore(choice: EventStoreChoice, dataDir: string): Promise<EventStore> {
  if (choice.adapter === 'postgres') {
    const { openPostgresEventStore } = await import('@sluice/event-store-postgres');
    return openPostgresEventStore({ connectionString: choice.url, schema: choice.schema });
  }
  mkdirSync(dataDir, { recursive: true });
  return openSqliteEventStore({ path: join(dataDir, 'events.sqlite') });
}

/** This module's URL: a what-if worker thread imports it to open the store (handles cannot cross threads, a module name can). */
export const storeOpener: string = import.meta.url;
