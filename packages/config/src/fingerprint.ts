import { createHash } from 'node:crypto';
import type { RuleConfig } from '@sluice/schemas';

/**
 * A content hash of the rules (the server and capture sections left out): read models
 * record it next to the version label, so two rule sets that share a label by
 * mistake, or defaults that changed under the same label, are told apart.
 * Settings only reports read (currency rates, the monthly MQL commitment, the
 * opportunity stage model, which no lead read model reads) are
 * left out too: changing them needs no rebuild.
 */
export function ruleFingerprint(config: RuleConfig): string {
  const { server: _server, capture: _capture, currencies: _currencies, opportunities: _opportunities, ...rules } = config as RuleConfig & { server?: unknown; capture?: unknown };
  const sla = rules.sla === undefined ? undefined : { ...rules.sla, mqlsPerMonth: undefined };
  return createHash('sha256').update(canonicalJson({ ...rules, sla })).digest('hex');
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
