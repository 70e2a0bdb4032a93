import { join } from 'node:path';
import { createAnalyticsClient, migrate, runStageTableSink, runTouchpointSink } from '@sluice/analytics';
import { ProjectionConfigMismatchError, openProjectionStore, stageStateSource, startProjector } from '@sluice/projector';
import type { EventStore } from '@sluice/event-store';
import { startServer } from '@sluice/api';
import { CliError } from '../output.js';
import type { Settings } from '../settings.js';

/**
 * The embedded default in one process: the SQLite store, the projector (read
 * models in <dataDir>/projections.sqlite), the touchpoint sink into
 * ClickHouse (chDB in the data directory, or a server at CLICKHOUSE_URL), the
 * stage-table sink (the read models' transitions and profiles into
 * ClickHouse: @sluice/analytics reads @sluice/projector's read models through
 * a port, composed here so neither package depends on the other) and the
 * API. Closing stops the followers first, then their stores.
 */
export async function serve(store: EventStore, settings: Settings): Promise<void> {
  const projections = openProjectionStore(join(settings.dataDir, 'projections.sqlite'));
  let projector;
  try {
    projector = startProjector({ store, projections, config: settings.config, onError: (err) => console.error('sluice: the projector stopped:', err) });
  } catch (err) {
    projections.close();
    await store.close();
    if (err instanceof ProjectionConfigMismatchError) throw new CliError(`${err.message}\nrun \`sluice rebuild\` to rebuild the read models under the current rules`);
    throw err;
  }
  const client = createAnalyticsClient({ url: settings.clickhouseUrl, dataPath: settings.dataDir });
  try {
    await migrate(client);
    const sink = await runTouchpointSink(store, client, { onError: (err) => console.error('sluice: the ClickHouse sink stopped:', err) });
    const stageSink = runStageTableSink(stageStateSource(projections), client, { onError: (err) => console.error('sluice: the ClickHouse stage-table sink stopped:', err) });
    const stopFollowers = async () => {
      await projector.stop();
      await stageSink.stop();
      await sink.stop();
    };
    const closeAll = async () => {
      await stopFollowers();
      projections.close();
      await client.close();
      await store.close();
    };
    await startServer(
      {
        store,
        analytics: { client, sink, stageSink, rules: settings.config },
        projections: { projector, projections, config: settings.config },
        limits: settings.limits,
        apiKeys: settings.apiKeys,
        logger: { level: 'info', redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] },
      },
      { host: settings.host, port: settings.port },
      closeAll,
    ).catch(async (err: unknown) => {
      await stopFollowers();
      throw err;
    });
    const address = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`;
    console.error(`Sluice is listening on ${address} (data in ${settings.dataDir}, analytics on ${client.backend}); API docs at ${address}/docs`);
  } catch (err) {
    await projector.stop();
    projections.close();
    await client.close();
    await store.close();
    throw new CliError((err as Error).message);
  }
}
