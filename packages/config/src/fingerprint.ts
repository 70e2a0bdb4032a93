import { createHash } from 'node:crypto';
import type { RuleConfig } from '@sluice/schemas';

/**
 * A content hash of the rules (the server section left out): read models
 * record it next to the version label, so two rule sets that share a label by
 * mistake, or defaults that changed under the same label, are told apart.
 */
export function ruleFingerprint(config: RuleConfig): string {
  const { server: _server, ...rules } = config as RuleConfig & { server?: unknown };
  return createHash('sha256').update(canonicalJson(rules)).digest('hex');
}

/** JSON with object keys sorted, undefined members left out: equal configs give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
