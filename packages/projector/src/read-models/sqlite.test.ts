import { startProjector } from '../projector.js';
import { openProjectionStore } from '../store/projection-store.js';
import { openEventStore, tempDir } from '../test-support.js';
import { describeReadModelsContract } from './contract.js';
import { sqliteReadModels } from './sqlite.js';

for (const where of ['file', ':memory:'] as const) {
  describeReadModelsContract(`SQLite (${where})`, async (write, config) => {
    const tmp = tempDir();
    const store = await openEventStore(tmp.path('events.sqlite'));
    const projections = openProjectionStore(where === 'file' ? tmp.path('projections.sqlite') : ':memory:');
    await write(store);
    // the live projector, not a rebuild: only it writes the change feed
    const projector = startProjector({ store, projections, config });
    await projector.caughtUp();
    await projector.stop();
    return {
      readModels: sqliteReadModels(projections, { store, config }),
      async close() {
        projections.close();
        await store.close();
        tmp.remove();
      },
    };
  });
}
