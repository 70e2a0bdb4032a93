// The server side of `pnpm bench ingest`, in its own process so the load
// generator does not share its event loop. Prints the port once listening.
import { join } from 'node:path';
import { buildApp, DEFAULT_LIMITS } from '@sluice/api';
import { openSqliteEventStore } from '@sluice/event-store';

const dir = process.argv[2]!;
const store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
const app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [] });
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${(app.server.address() as { port: number }).port}\n`);
process.on('SIGTERM', () => void app.close().then(() => store.close()).then(() => process.exit(0)));
