import { describeReadModelsContract, projectIntoSqlite } from './contract.js';
import { sqliteReadModels } from './sqlite.js';

for (const where of ['file', ':memory:'] as const) {
  describeReadModelsContract(`SQLite (${where})`, async (write, config) => {
    const log = await projectIntoSqlite(write, config, where);
    return { readModels: sqliteReadModels(log.projections, { store: log.store, config }), append: log.append, close: log.close };
  });
}
