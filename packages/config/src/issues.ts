import type { z } from 'zod';

/**
 * Turns zod issues into `path.to.key: message` lines a person can act on:
 * array indices in brackets, "required" for missing keys, one line per
 * unknown key with a did-you-mean from the keys the schema knows there, and
 * the offending value for a bad enum value.
 */

export interface ConfigIssue {
  /** e.g. `scoring.engagement.rules[2].points`; empty for the whole document */
  path: string;
  message: string;
}

type Path = readonly PropertyKey[];

export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

function valueAt(input: unknown, path: Path): unknown {
  let v = input;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j]!;
      prev[j] = Math.min(above + 1, prev[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return prev[b.length]!;
}

/** The closest known name, if it is close enough to be what was meant. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

// ---- walking a zod schema along a path (for the keys it knows there) ----

interface Def {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  element?: Schema;
  valueType?: Schema;
  options?: Schema[];
  getter?: () => Schema;
}
type Schema = { _zod: { def: Def } };

const defOf = (s: Schema): Def => s._zod.def;

/** Looks through wrappers (optional, default, preprocess, transform, lazy) to the schema that parses the value. */
function unwrap(schema: Schema): Schema {
  let s = schema;
  for (let guard = 0; guard < 50; guard++) {
    const d = defOf(s);
    if (d.innerType && ['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional'].includes(d.type)) s = d.innerType;
    else if (d.type === 'pipe' && d.in && d.out) s = defOf(d.in).type === 'transform' ? d.out : d.in;
    else if (d.type === 'lazy' && d.getter) s = d.getter();
    else return s;
  }
  return s;
}

const shapeKeys = (s: Schema) => Object.keys(defOf(s).shape ?? {}).filter((k) => k !== 'kind');

/** Of a union's options, the object option that knows most of the keys the value has. */
function bestOption(options: readonly Schema[], value: unknown): Schema | undefined {
  const given = typeof value === 'object' && value !== null ? Object.keys(value) : [];
  let best: Schema | undefined;
  let bestScore = -1;
  for (const o of options.map(unwrap)) {
    if (defOf(o).type !== 'object') continue;
    const keys = shapeKeys(o);
    const score = given.filter((k) => keys.includes(k)).length;
    if (score > bestScore) {
      best = o;
      bestScore = score;
    }
  }
  return best;
}

function schemaAt(root: Schema, path: Path, input: unknown): Schema | undefined {
  let s: Schema | undefined = unwrap(root);
  for (let i = 0; i <= path.length && s; i++) {
    let d = defOf(s);
    if (d.type === 'union' && d.options) {
      s = bestOption(d.options, valueAt(input, path.slice(0, i)));
      if (!s) return undefined;
      d = defOf(s);
    }
    if (i === path.length) return s;
    const seg = path[i]!;
    if (d.type === 'object' && typeof seg === 'string') s = d.shape?.[seg] as Schema | undefined;
    else if (d.type === 'array' && typeof seg === 'number') s = d.element;
    else if (d.type === 'record') s = d.valueType;
    else return undefined;
    if (s) s = unwrap(s);
  }
  return s;
}

/** A value written as one item where a list is accepted (`"event": "visit"`) is reported at its own key, not at `[0]`. */
function writtenPath(input: unknown, path: Path): Path {
  const last = path[path.length - 1];
  return typeof last === 'number' && !Array.isArray(valueAt(input, path.slice(0, -1))) ? path.slice(0, -1) : path;
}

export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown, schema: z.ZodType): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = writtenPath(input, issue.path);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = schemaAt(schema as unknown as Schema, path, input);
        const keys = known && defOf(known).type === 'object' ? shapeKeys(known) : [];
        for (const key of issue.keys) {
          const guess = closest(key, keys);
          out.push({ path: formatPath([...path, key]), message: guess ? `unknown key (did you mean "${guess}"?)` : keys.length ? `unknown key; known keys: ${keys.join(', ')}` : 'unknown key' });
        }
        break;
      }
      case 'invalid_type':
        out.push({ path: formatPath(path), message: valueAt(input, path) === undefined ? 'required' : issue.message.replace(/^Invalid input: /, '') });
        break;
      case 'invalid_value': {
        const given = valueAt(input, path);
        const options = issue.values.map(String);
        const guess = typeof given === 'string' ? closest(given, options) : undefined;
        out.push({ path: formatPath(path), message: `${JSON.stringify(given)} is not allowed${guess ? ` (did you mean "${guess}"?)` : ''}; expected one of ${options.join(', ')}` });
        break;
      }
      default:
        out.push({ path: formatPath(path), message: issue.message.replace(/^Invalid input: /, '') });
    }
  }
  return out;
}
