// The server side of `pnpm bench ingest`, in its own process so the load
// generator does not share its event loop. Prints the port once listening.
import { join } from 'node:path';
import { buildApp, DEFAULT_LIMITS } from '@sluice/api';
import { openSqliteEventStore } from '@sluice/event-store';
import { CaptureSchema, EVENT_TYPES, PROFILE_FACTS } from '@sluice/schemas';

const dir = process.argv[2]!;
const store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
// the Segment endpoint maps each track name to the Sluice type of the same name, so both doors store the same kinds of events
const identity = <T extends string>(names: readonly T[]) => Object.fromEntries(names.map((n) => [n, n]));
const capture = CaptureSchema.parse({ segment: { events: identity(EVENT_TYPES), traits: identity(PROFILE_FACTS) } });
const app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], capture });
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${(app.server.address() as { port: number }).port}\n`);
process.on('SIGTERM', () => void app.close().then(() => store.close()).then(() => process.exit(0)));
