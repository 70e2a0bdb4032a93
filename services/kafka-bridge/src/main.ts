// `tsx services/kafka-bridge/src/main.ts`: the bridge process, configured like
// every Sluice process (SLUICE_CONFIG names the file; environment overrides).
// The process is @sluice/app's bridge role; this is only its entry point.
import { BridgeConfigError, runBridgeProcess } from '@sluice/app';
import { ConfigError, loadConfig } from '@sluice/config';

try {
  const config = loadConfig({ env: process.env });
  await runBridgeProcess({ config, dataDir: config.server.dataDir });
} catch (err) {
  if (err instanceof ConfigError || err instanceof BridgeConfigError) console.error(`kafka-bridge: ${err.message}`);
  else console.error('kafka-bridge: failed to start:', err);
  process.exit(1);
}
