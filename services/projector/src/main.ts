// `tsx services/projector/src/main.ts [--partitions i/N]`: the projector process, configured like
// every Sluice process (SLUICE_CONFIG names the file; environment overrides; CLICKHOUSE_URL for a server).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@sluice/config';
import { PartitionSpecError, parsePartitionSlot } from './partitions.js';
import { ProjectorConfigError, runProjectorProcess } from './process.js';

try {
  const { values } = parseArgs({ options: { partitions: { type: 'string' } } });
  await runProjectorProcess(loadConfig({ env: process.env }), {
    clickhouseUrl: process.env.CLICKHOUSE_URL || undefined,
    slot: values.partitions === undefined ? undefined : parsePartitionSlot(values.partitions),
  });
} catch (err) {
  if (err instanceof ConfigError || err instanceof ProjectorConfigError || err instanceof PartitionSpecError) console.error(`projector: ${err.message}`);
  else console.error('projector: failed to start:', err);
  process.exit(1);
}
