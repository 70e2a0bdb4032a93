// `tsx services/kafka-bridge/src/main.ts`: the bridge process, configured like
// every Sluice process (SLUICE_CONFIG names the file; environment overrides).
import { ConfigError, loadConfig } from '@sluice/config';
import { BridgeConfigError, runBridgeProcess } from './process.js';

try {
  await runBridgeProcess(loadConfig({ env: process.env }));
} catch (err) {
  if (err instanceof ConfigError || err instanceof BridgeConfigError) console.error(`kafka-bridge: ${err.message}`);
  else console.error('kafka-bridge: failed to start:', err);
  process.exit(1);
}
