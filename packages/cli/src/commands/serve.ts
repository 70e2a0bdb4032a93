import type { EventStore } from '@sluice/event-store';
import { startServer } from '@sluice/api';
import { CliError } from '../output.js';
import type { Settings } from '../settings.js';

export async function serve(store: EventStore, settings: Settings): Promise<void> {
  try {
    const app = await startServer(
      { store, limits: settings.limits, apiKeys: settings.apiKeys, logger: { level: 'info', redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] } },
      { host: settings.host, port: settings.port },
      () => store.close(),
    );
    const address = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`;
    console.error(`Sluice is listening on ${address} (data in ${settings.dataDir}); API docs at ${address}/docs`);
    void app;
  } catch (err) {
    await store.close();
    throw new CliError((err as Error).message);
  }
}
