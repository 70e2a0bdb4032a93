import { createAnalyticsClient, migrate, runTouchpointSink } from '@sluice/analytics';
import type { EventStore } from '@sluice/event-store';
import { startServer } from '@sluice/api';
import { CliError } from '../output.js';
import type { Settings } from '../settings.js';

/**
 * The embedded default in one process: the SQLite store, the touchpoint sink
 * into ClickHouse (chDB in the data directory, or a server at CLICKHOUSE_URL)
 * and the API. Closing stops the sink first, then ClickHouse, then the store.
 */
export async function serve(store: EventStore, settings: Settings): Promise<void> {
  const client = createAnalyticsClient({ url: settings.clickhouseUrl, dataPath: settings.dataDir });
  try {
    await migrate(client);
    const sink = await runTouchpointSink(store, client, { onError: (err) => console.error('sluice: the ClickHouse sink stopped:', err) });
    const closeAll = async () => {
      await sink.stop();
      await client.close();
      await store.close();
    };
    await startServer(
      {
        store,
        analytics: { client, sink },
        limits: settings.limits,
        apiKeys: settings.apiKeys,
        logger: { level: 'info', redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] },
      },
      { host: settings.host, port: settings.port },
      closeAll,
    ).catch(async (err: unknown) => {
      await sink.stop();
      throw err;
    });
    const address = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`;
    console.error(`Sluice is listening on ${address} (data in ${settings.dataDir}, analytics on ${client.backend}); API docs at ${address}/docs`);
  } catch (err) {
    await client.close();
    await store.close();
    throw new CliError((err as Error).message);
  }
}
