import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiLimits } from '@sluice/app';
import { ConfigError, DEFAULT_CONFIG, loadConfig } from '@sluice/config';
import type { ApiKey, SluiceConfig } from '@sluice/schemas';
import { CliError, usageError } from './output.js';

/** What the composition root needs to start things: flags over environment over the config file over defaults. */
export interface Settings {
  config: SluiceConfig;
  dataDir: string;
  host: string;
  port: number;
  apiKeys: ApiKey[];
  limits: ApiLimits;
  timeZone: string;
  /** a ClickHouse server; without it, embedded chDB in the data directory */
  clickhouseUrl: string | undefined;
}

type Flags = { config?: string | undefined; 'data-dir'?: string | undefined; host?: string | undefined; port?: string | undefined };

function port(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usageError(`--port must be a port number 0-65535, got "${text}"`);
  return n;
}

/** A data directory may carry the rules it was built under (`sluice demo` writes the demo's there): used when no --config or SLUICE_CONFIG names a file. */
export const DATA_DIR_CONFIG = 'sluice.config.json';

/** The configuration file this invocation reads: --config, else SLUICE_CONFIG, else the data directory's own, else none (built-in defaults). */
export function configFileOf(flags: Flags, env: NodeJS.ProcessEnv): string | undefined {
  const explicit = flags.config ?? (env.SLUICE_CONFIG?.trim() || undefined);
  if (explicit !== undefined) return explicit;
  const local = join(flags['data-dir'] ?? (env.SLUICE_DATA_DIR?.trim() || DEFAULT_CONFIG.server.dataDir), DATA_DIR_CONFIG);
  return existsSync(local) ? local : undefined;
}

export function resolveSettings(flags: Flags, env: NodeJS.ProcessEnv): Settings {
  let config: SluiceConfig;
  try {
    config = loadConfig({ file: configFileOf(flags, env), env });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  const { server } = config;
  return {
    config,
    dataDir: flags['data-dir'] ?? server.dataDir,
    host: flags.host ?? server.host,
    port: flags.port !== undefined ? port(flags.port) : server.port,
    apiKeys: server.apiKeys.map((k) => ({ name: k.name, scopes: [...k.scopes], secret: k.secret })),
    limits: { maxEvents: server.batch.maxEvents, bodyLimitBytes: server.batch.bodyLimitBytes },
    timeZone: config.timeZone,
    clickhouseUrl: env.CLICKHOUSE_URL === '' ? undefined : env.CLICKHOUSE_URL,
  };
}

/**
 * Creates the data directory if needed and checks Sluice can write there:
 * every command writes in it (the log, the read models, ClickHouse), so one
 * that cannot is refused before any file in it is opened.
 */
export function ensureDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK);
  } catch (err) {
    throw new CliError(`cannot use ${dataDir} as the data directory (${(err as Error).message}): Sluice creates and writes files there; point --data-dir at a directory it can write`);
  }
}
