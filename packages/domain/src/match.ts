import type { EventOf, EventType, Filter, Matcher, ProfileFilter, SluiceEvent } from '@sluice/schemas';

/**
 * Config filters and matchers turned into closures, once per config (see
 * compileRules). String comparisons ignore case: "Financial Services" in a
 * CRM and "financial services" in a config are the same industry.
 */

export type Predicate<T> = (value: T) => boolean;

/** What fit rules read: the lead's latest identify facts, plus the e-mail's domain. */
export type Profile = Omit<EventOf<'identify'>['properties'], 'x'> & { emailDomain?: string | undefined };

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

export function compileFilter(f: Filter): Predicate<unknown> {
  const tests: Predicate<unknown>[] = [];
  if (f.eq !== undefined) {
    const want = lower(f.eq);
    tests.push((v) => lower(v) === want);
  }
  if (f.ne !== undefined) {
    const avoid = lower(f.ne);
    tests.push((v) => lower(v) !== avoid);
  }
  if (f.in !== undefined) {
    const set = new Set(f.in.map(lower));
    tests.push((v) => set.has(lower(v)));
  }
  if (f.notIn !== undefined) {
    const set = new Set(f.notIn.map(lower));
    tests.push((v) => !set.has(lower(v)));
  }
  const { gt, gte, lt, lte } = f;
  if (gt !== undefined) tests.push((v) => typeof v === 'number' && v > gt);
  if (gte !== undefined) tests.push((v) => typeof v === 'number' && v >= gte);
  if (lt !== undefined) tests.push((v) => typeof v === 'number' && v < lt);
  if (lte !== undefined) tests.push((v) => typeof v === 'number' && v <= lte);
  if (f.contains !== undefined) {
    const needles = (Array.isArray(f.contains) ? f.contains : [f.contains]).map((s) => s.toLowerCase());
    tests.push((v) => typeof v === 'string' && needles.some((n) => v.toLowerCase().includes(n)));
  }
  if (f.exists === true) tests.push(() => true);
  // A missing value matches nothing, except a filter asking for its absence.
  const whenMissing = f.exists === false;
  return (v) => {
    if (v === undefined || v === null) return whenMissing;
    if (f.exists === false) return false;
    for (const t of tests) if (!t(v)) return false;
    return true;
  };
}

function getter(path: string): (root: unknown) => unknown {
  const parts = path.split('.');
  return (root) => {
    let v: unknown = root;
    for (const p of parts) {
      if (typeof v !== 'object' || v === null) return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

export interface CompiledMatcher {
  readonly types: readonly EventType[];
  readonly matches: Predicate<SluiceEvent>;
}

export function compileMatcher(m: Matcher): CompiledMatcher {
  const types = new Set<string>(m.event);
  const checks: Predicate<SluiceEvent>[] = [];
  for (const [path, filter] of Object.entries(m.where ?? {})) {
    const get = getter(path);
    const test = compileFilter(filter);
    checks.push((e) => test(get(e.properties)));
  }
  for (const field of ['source', 'channel', 'campaign'] as const) {
    const filter = m[field];
    if (filter !== undefined) {
      const test = compileFilter(filter);
      checks.push((e) => test(e[field]));
    }
  }
  return {
    types: [...m.event],
    matches: (e) => {
      if (!types.has(e.type)) return false;
      for (const c of checks) if (!c(e)) return false;
      return true;
    },
  };
}

/** Any of several matchers: one predicate and the union of their types. */
export function compileMatchers(ms: readonly Matcher[]): CompiledMatcher {
  const compiled = ms.map(compileMatcher);
  return { types: [...new Set(compiled.flatMap((c) => c.types))], matches: (e) => compiled.some((c) => c.matches(e)) };
}

export function compileProfileFilter(p: ProfileFilter): Predicate<Profile> {
  const tests = Object.entries(p)
    .filter((entry): entry is [string, Filter] => entry[1] !== undefined)
    .map(([field, filter]) => {
      const test = compileFilter(filter);
      return (profile: Profile) => test((profile as Record<string, unknown>)[field]);
    });
  return (profile) => tests.every((t) => t(profile));
}

/** A call with at least `n` of the four BANT answers positive. */
export function bantAtLeast(n: number): Predicate<SluiceEvent> {
  return (e) => {
    if (e.type !== 'call' || e.properties.bant === undefined) return false;
    const b = e.properties.bant;
    return Number(b.budget === true) + Number(b.authority === true) + Number(b.need === true) + Number(b.timeline === true) >= n;
  };
}
