import type { ApiKey, ApiLimits, Scope } from '@sluice/api';
import { DEFAULT_LIMITS } from '@sluice/api';
import { CliError } from './output.js';

/** What the composition root needs to start things: flags over environment over defaults. */
export interface Settings {
  dataDir: string;
  host: string;
  port: number;
  apiKeys: ApiKey[];
  limits: ApiLimits;
  timeZone: string;
  /** a ClickHouse server; without it, embedded chDB in the data directory */
  clickhouseUrl: string | undefined;
}

type Flags = { 'data-dir'?: string | undefined; host?: string | undefined; port?: string | undefined };
const SCOPES: readonly Scope[] = ['ingest', 'read', 'admin'];

/** SLUICE_API_KEYS: `name:scope+scope:secret,...`, e.g. `tracker:ingest:s3cr3t,dash:read:t0ps3cr3t`. */
export function parseApiKeys(text: string | undefined): ApiKey[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((entry, i) => {
    const [name, scopes, ...secret] = entry.trim().split(':');
    const joined = secret.join(':');
    if (!name || !scopes || joined.length < 16) {
      throw new CliError(`SLUICE_API_KEYS entry ${i + 1} must be name:scope+scope:secret with a secret of at least 16 characters`);
    }
    const list = scopes.split('+') as Scope[];
    const bad = list.find((s) => !SCOPES.includes(s));
    if (bad) throw new CliError(`SLUICE_API_KEYS entry ${i + 1} ("${name}"): unknown scope "${bad}"; scopes are ${SCOPES.join(', ')}`);
    return { name, scopes: list, secret: joined };
  });
}

function port(text: string, from: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`${from} must be a port number 0-65535, got "${text}"`);
  return n;
}

export function resolveSettings(flags: Flags, env: NodeJS.ProcessEnv): Settings {
  return {
    dataDir: flags['data-dir'] ?? env.SLUICE_DATA_DIR ?? '.sluice',
    host: flags.host ?? env.SLUICE_HOST ?? '127.0.0.1',
    port: flags.port !== undefined ? port(flags.port, '--port') : env.SLUICE_PORT !== undefined ? port(env.SLUICE_PORT, 'SLUICE_PORT') : 4780,
    apiKeys: parseApiKeys(env.SLUICE_API_KEYS),
    limits: DEFAULT_LIMITS,
    timeZone: env.SLUICE_TIME_ZONE ?? 'UTC',
    clickhouseUrl: env.CLICKHOUSE_URL === '' ? undefined : env.CLICKHOUSE_URL,
  };
}
