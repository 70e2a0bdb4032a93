// `tsx services/projector/src/main.ts [--partitions i/N]`: the projector process, configured like
// every Sluice process (SLUICE_CONFIG names the file; environment overrides; CLICKHOUSE_URL for a server).
// The process is @sluice/app's projector role; this is only its entry point.
import { parseArgs } from 'node:util';
import { PartitionSpecError, ProjectorConfigError, parsePartitionSlot, runProjectorProcess } from '@sluice/app';
import { ConfigError, loadConfig } from '@sluice/config';

try {
  const { values } = parseArgs({ options: { partitions: { type: 'string' } } });
  const config = loadConfig({ env: process.env });
  await runProjectorProcess(
    { config, dataDir: config.server.dataDir, clickhouseUrl: process.env.CLICKHOUSE_URL || undefined },
    { slot: values.partitions === undefined ? undefined : parsePartitionSlot(values.partitions) },
  );
} catch (err) {
  if (err instanceof ConfigError || err instanceof ProjectorConfigError || err instanceof PartitionSpecError) console.error(`projector: ${err.message}`);
  else console.error('projector: failed to start:', err);
  process.exit(1);
}
