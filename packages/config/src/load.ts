import { readFileSync } from 'node:fs';
import { type RuleConfig, RuleConfigSchema, type SluiceConfig, SluiceConfigSchema } from '@sluice/schemas';
import type { z } from 'zod';
import { type Env, type EnvOverride, envOverrides } from './env.js';
import { type ConfigIssue, describeIssues, formatPath } from './issues.js';

/**
 * Loading the configuration: a JSON file (optional), environment overrides,
 * one zod schema over both, parsed once at start-up by the composition root,
 * which passes `process.env` in. Nothing below it reads the environment.
 */

/** The version of the built-in defaults; bump it whenever a default rule changes, since read models record it. */
export const DEFAULT_VERSION = 'sluice-default-1';

export class ConfigError extends Error {
  constructor(
    /** the file, or what else the configuration came from */
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`invalid configuration (${source}):\n${issues.map((i) => `  - ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** a JSON config file; when absent, SLUICE_CONFIG names one; with neither, the built-in defaults */
  file?: string | undefined;
  /** the process environment (the composition root passes process.env) */
  env: Env;
}

/** Reads, overrides, validates and freezes the configuration; throws a ConfigError listing every issue. */
export function loadConfig({ file, env }: LoadConfigOptions): SluiceConfig {
  const path = file ?? (env['SLUICE_CONFIG']?.trim() || undefined);
  if (path === undefined) return parseConfig({ version: DEFAULT_VERSION }, { source: 'built-in defaults', env });
  return parseConfig(readJson(path), { source: path, env });
}

/** Validates a configuration document (already parsed JSON), with environment overrides applied first. */
export function parseConfig(document: unknown, options: { source?: string; env?: Env } = {}): SluiceConfig {
  const source = options.source ?? 'configuration';
  const { overrides, issues: envIssues } = envOverrides(options.env ?? {});
  const input = applyOverrides(documentBody(document, source), overrides);
  const parsed = SluiceConfigSchema.safeParse(input);
  const issues = [...envIssues, ...(parsed.success ? [] : labelled(describeIssues(parsed.error.issues, input, SluiceConfigSchema), overrides))];
  if (issues.length > 0 || !parsed.success) throw new ConfigError(source, issues);
  return deepFreeze(parsed.data);
}

/** Validates a rules-only document, e.g. a candidate rule set for a what-if replay (no server section, no environment). */
export function parseRuleConfig(document: unknown, source = 'rule configuration'): RuleConfig {
  const input = documentBody(document, source);
  const parsed = RuleConfigSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(source, describeIssues(parsed.error.issues, input, RuleConfigSchema as z.ZodType));
  return deepFreeze(parsed.data);
}

/** The configuration `sluice serve` runs with when there is no file: classic B2B, literature scoring, UTC, 127.0.0.1:4780. */
export const DEFAULT_CONFIG: SluiceConfig = parseConfig({ version: DEFAULT_VERSION }, { source: 'built-in defaults' });

/** The document without `$schema` (editors use it to find a JSON Schema). */
function documentBody(document: unknown, source: string): Record<string, unknown> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ConfigError(source, [{ path: '', message: 'the configuration must be a JSON object' }]);
  }
  const { $schema: _schema, ...body } = document as Record<string, unknown>;
  return body;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [{ path: '', message: `cannot read the file${code ? ` (${code})` : ''}` }]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    const where = at && !/line \d+/.test(message) ? ` (${lineAndColumn(text, Number(at[1]))})` : '';
    throw new ConfigError(path, [{ path: '', message: `not valid JSON: ${message}${where}` }]);
  }
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return `line ${line} column ${position - before.lastIndexOf('\n')}`;
}

function applyOverrides(document: Record<string, unknown>, overrides: readonly EnvOverride[]): Record<string, unknown> {
  const root: Record<string, unknown> = { ...document };
  for (const o of overrides) {
    let node = root;
    o.path.forEach((key, i) => {
      if (i === o.path.length - 1) {
        node[key] = o.value;
        return;
      }
      const child = node[key];
      // copy on the way down: the caller's document stays untouched
      node[key] = typeof child === 'object' && child !== null && !Array.isArray(child) ? { ...child } : {};
      node = node[key] as Record<string, unknown>;
    });
  }
  return root;
}

/** Issues under a key an environment variable set say so. */
function labelled(issues: ConfigIssue[], overrides: readonly EnvOverride[]): ConfigIssue[] {
  return issues.map((issue) => {
    const from = overrides.find((o) => {
      const p = formatPath(o.path);
      return issue.path === p || issue.path.startsWith(`${p}.`) || issue.path.startsWith(`${p}[`);
    });
    return from ? { ...issue, path: `${issue.path} (from ${from.variable})` } : issue;
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
