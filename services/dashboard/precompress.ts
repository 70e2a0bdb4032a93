import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** Text the browser fetches; images and fonts are compressed already. */
const COMPRESSIBLE = new Set(['.js', '.css', '.html', '.svg', '.json', '.map']);
/** Below this a compressed answer saves less than its headers cost. */
const MIN_BYTES = 1024;

export interface CompressedTwin {
  /** the file's path under the directory, with / between parts */
  file: string;
  bytes: number;
  brotliBytes: number;
  gzipBytes: number;
}

/**
 * Writes `<file>.br` and `<file>.gz` beside every compressible file of a build
 * directory, at the strongest settings: done once per build, so the API sends
 * them as they are (its preCompressed static serving) and spends no CPU per
 * request. Returns what it wrote.
 */
export function writeCompressedTwins(dir: string, under = ''): CompressedTwin[] {
  const twins: CompressedTwin[] = [];
  for (const name of readdirSync(join(dir, under)).sort()) {
    const file = under === '' ? name : `${under}/${name}`;
    const path = join(dir, file);
    if (statSync(path).isDirectory()) {
      twins.push(...writeCompressedTwins(dir, file));
      continue;
    }
    if (!COMPRESSIBLE.has(extname(name))) continue;
    const content = readFileSync(path);
    if (content.length < MIN_BYTES) continue;
    const brotli = brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: content.length } });
    const gzip = gzipSync(content, { level: constants.Z_BEST_COMPRESSION });
    writeFileSync(`${path}.br`, brotli);
    writeFileSync(`${path}.gz`, gzip);
    twins.push({ file, bytes: content.length, brotliBytes: brotli.length, gzipBytes: gzip.length });
  }
  return twins;
}

/** The Vite plugin: compressed twins in the output directory once the bundle is written. */
export function compressedTwins(): Plugin {
  return {
    name: 'sluice-compressed-twins',
    apply: 'build',
    writeBundle(options) {
      if (options.dir !== undefined) writeCompressedTwins(options.dir);
    },
  };
}
