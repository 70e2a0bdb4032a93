import { z } from 'zod';
import { TEXT_MESSAGE, isStorableText } from './primitives.js';

/** How much custom data one event may carry under `properties.x`. */
export const EXTENSION_LIMITS = {
  /** levels of objects and arrays, `x` itself the first */
  maxDepth: 32,
  /** keys and array items, at every level together */
  maxValues: 1000,
  /** UTF-8 bytes of `x` as JSON */
  maxBytes: 64 * 1024,
  /** length of a top-level key */
  maxKeyLength: 100,
} as const;

type Path = Array<string | number>;
type Issue = { path: Path; message: string };
const utf8 = new TextEncoder();

/**
 * What is wrong with a `properties.x` value, found by a loop with its own
 * stack: zod's z.json() and the sink's flattening both recurse, and a
 * 10,000-level object overflows their stack. Only a tree within the bounds
 * reaches them. Text is checked at every level, keys included. Values that are
 * not JSON at all are left to z.json(), which names them.
 */
function extensionIssues(x: unknown): Issue[] {
  const issues: Issue[] = [];
  const stack: Array<{ value: unknown; path: Path; depth: number }> = [{ value: x, path: [], depth: 1 }];
  let values = 0;
  let jsonOnly = true;
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path, depth } = item;
    if (typeof value === 'string') {
      if (!isStorableText(value)) issues.push({ path, message: TEXT_MESSAGE });
      continue;
    }
    if (typeof value !== 'object' || value === null) {
      jsonOnly &&= value === null || typeof value === 'number' || typeof value === 'boolean';
      continue;
    }
    if (depth > EXTENSION_LIMITS.maxDepth) return [{ path: [], message: `nests deeper than ${EXTENSION_LIMITS.maxDepth} levels of objects and arrays` }];
    const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    values += entries.length;
    if (values > EXTENSION_LIMITS.maxValues) return [{ path: [], message: `holds more than ${EXTENSION_LIMITS.maxValues} keys and array items` }];
    for (const [key, child] of entries) {
      if (typeof key === 'string' && !isStorableText(key)) issues.push({ path: [...path, key], message: `key ${TEXT_MESSAGE}` });
      stack.push({ value: child, path: [...path, key], depth: depth + 1 });
    }
  }
  // within the depth bound JSON.stringify cannot overflow; a UTF-16 length over the bound is over it in UTF-8 too
  if (issues.length === 0 && jsonOnly) {
    const json = JSON.stringify(x);
    if (json.length > EXTENSION_LIMITS.maxBytes || utf8.encode(json).length > EXTENSION_LIMITS.maxBytes) {
      return [{ path: [], message: `is larger than ${EXTENSION_LIMITS.maxBytes / 1024} KiB as JSON` }];
    }
  }
  return issues;
}

const EXTENSIONS_DESCRIPTION =
  `Any JSON object, stored and passed to analytics untouched: at most ${EXTENSION_LIMITS.maxDepth} levels deep, ` +
  `${EXTENSION_LIMITS.maxValues} keys and array items in all, ${EXTENSION_LIMITS.maxBytes / 1024} KiB as JSON; ` +
  'text without lone surrogates or NUL';

/**
 * `properties.x` is the one extension point: any JSON object under the `x`
 * namespace is stored and passed to analytics untouched. Everything else in
 * `properties` is checked against the event type's schema, so a typo is an
 * error instead of a silently ignored field.
 */
export const Extensions = z
  .unknown()
  .superRefine((x, ctx) => {
    for (const issue of extensionIssues(x)) ctx.addIssue({ code: 'custom', ...issue });
  })
  // a failed check above stops the pipe: z.json() only ever sees a bounded tree
  .pipe(z.record(z.string().min(1).max(EXTENSION_LIMITS.maxKeyLength), z.json()))
  // JSON Schema is drawn from a pipe's input (here unknown): say what is taken
  .meta({ type: 'object', propertyNames: { minLength: 1, maxLength: EXTENSION_LIMITS.maxKeyLength }, description: EXTENSIONS_DESCRIPTION })
  .optional();
