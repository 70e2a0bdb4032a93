import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TRACKER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_PATH = join(TRACKER_DIR, 'prebuilt', 'sluice.js');

/** The browser script bundled and minified: what prebuilt/sluice.js holds (a test checks it is not stale). */
export async function bundleTracker(): Promise<string> {
  const result = await build({
    entryPoints: [join(TRACKER_DIR, 'browser', 'sluice.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    write: false,
    legalComments: 'none',
  });
  return result.outputFiles[0]!.text;
}
