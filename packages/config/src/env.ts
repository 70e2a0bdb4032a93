import { API_SCOPES, type ApiScope } from '@sluice/schemas';
import type { ConfigIssue } from './issues.js';

/**
 * Environment overrides, applied to the raw document before validation so
 * one schema checks file and environment alike. Each override names where a
 * bad value came from. Env values win over the file; SLUICE_API_KEYS replaces
 * the file's keys (secrets belong in the environment, not in a file).
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvOverride {
  variable: string;
  /** where it lands in the config document */
  path: readonly (string | number)[];
  value: unknown;
}

/** Variables that become config values. SLUICE_CONFIG (the file) is read by loadConfig. */
export const ENV_VARIABLES = ['SLUICE_TIME_ZONE', 'SLUICE_DATA_DIR', 'SLUICE_HOST', 'SLUICE_PORT', 'SLUICE_API_KEYS', 'SLUICE_KAFKA_BROKERS', 'SLUICE_KAFKA_PRODUCE_DEADLINE_MS', 'SLUICE_POSTGRES_URL', 'SLUICE_READ_MODELS_URL', 'SLUICE_FRESHNESS_WAIT_MS'] as const;

export function envOverrides(env: Env): { overrides: EnvOverride[]; issues: ConfigIssue[] } {
  const overrides: EnvOverride[] = [];
  const issues: ConfigIssue[] = [];
  const text = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const timeZone = text('SLUICE_TIME_ZONE');
  if (timeZone !== undefined) overrides.push({ variable: 'SLUICE_TIME_ZONE', path: ['timeZone'], value: timeZone });
  const dataDir = text('SLUICE_DATA_DIR');
  if (dataDir !== undefined) overrides.push({ variable: 'SLUICE_DATA_DIR', path: ['server', 'dataDir'], value: dataDir });
  const host = text('SLUICE_HOST');
  if (host !== undefined) overrides.push({ variable: 'SLUICE_HOST', path: ['server', 'host'], value: host });
  // ranges are the schema's to check: its issues are labelled with the variable
  const integer = (variable: string, path: readonly string[]) => {
    const value = text(variable);
    if (value === undefined) return;
    if (/^\d+$/.test(value)) overrides.push({ variable, path, value: Number(value) });
    else issues.push({ path: `${path.join('.')} (from ${variable})`, message: `expected an integer, got ${JSON.stringify(value.slice(0, 40))}` });
  };
  integer('SLUICE_PORT', ['server', 'port']);
  integer('SLUICE_FRESHNESS_WAIT_MS', ['server', 'freshnessWaitMs']);
  const keys = text('SLUICE_API_KEYS');
  if (keys !== undefined) {
    const parsed = parseApiKeys(keys);
    issues.push(...parsed.issues);
    overrides.push({ variable: 'SLUICE_API_KEYS', path: ['server', 'apiKeys'], value: parsed.keys });
  }
  const brokers = text('SLUICE_KAFKA_BROKERS');
  // the rest of the kafka section keeps the file's values (or the defaults)
  if (brokers !== undefined) overrides.push({ variable: 'SLUICE_KAFKA_BROKERS', path: ['server', 'kafka', 'brokers'], value: brokers.split(',').map((b) => b.trim()) });
  // like any kafka key, it needs the brokers (file or SLUICE_KAFKA_BROKERS): alone it is a config error, not ignored
  integer('SLUICE_KAFKA_PRODUCE_DEADLINE_MS', ['server', 'kafka', 'produceDeadlineMs']);
  const postgres = text('SLUICE_POSTGRES_URL');
  if (postgres !== undefined) {
    overrides.push({ variable: 'SLUICE_POSTGRES_URL', path: ['server', 'eventStore', 'adapter'], value: 'postgres' });
    overrides.push({ variable: 'SLUICE_POSTGRES_URL', path: ['server', 'eventStore', 'url'], value: postgres });
  }
  // the schema keeps the file's (or the default) name
  const readModels = text('SLUICE_READ_MODELS_URL');
  if (readModels !== undefined) {
    overrides.push({ variable: 'SLUICE_READ_MODELS_URL', path: ['server', 'readModels', 'adapter'], value: 'postgres' });
    overrides.push({ variable: 'SLUICE_READ_MODELS_URL', path: ['server', 'readModels', 'url'], value: readModels });
  }
  return { overrides, issues };
}

/**
 * `name:scope1+scope2:secret,name2:read:secret2`. The secret is everything
 * after the second colon, so it may contain colons (not commas). Errors name
 * the entry by position and name, never by secret.
 */
export function parseApiKeys(text: string): { keys: { name: string; scopes: ApiScope[]; secret: string }[]; issues: ConfigIssue[] } {
  const keys: { name: string; scopes: ApiScope[]; secret: string }[] = [];
  const issues: ConfigIssue[] = [];
  text.split(',').forEach((entry, i) => {
    const where = `server.apiKeys[${i}] (from SLUICE_API_KEYS)`;
    const first = entry.indexOf(':');
    const second = first < 0 ? -1 : entry.indexOf(':', first + 1);
    if (first <= 0 || second < 0) {
      issues.push({ path: where, message: 'expected name:scope1+scope2:secret' });
      return;
    }
    const scopes = entry.slice(first + 1, second).split('+').filter((s) => s !== '');
    const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0) {
      issues.push({ path: where, message: `unknown scope ${unknown.map((s) => JSON.stringify(s.slice(0, 20))).join(', ')}; scopes: ${API_SCOPES.join(', ')}` });
      return;
    }
    keys.push({ name: entry.slice(0, first).trim(), scopes: scopes as ApiScope[], secret: entry.slice(second + 1) });
  });
  return { keys, issues };
}
