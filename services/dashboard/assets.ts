import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the built dashboard is: the API serves this directory at `/`. */
export const DASHBOARD_DIST = join(here, 'dist');

/** Everything a build reads: when any of it is newer than the build, the build is stale. */
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'precompress.ts', 'package.json'];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Why the build must be made again, or undefined when it is current. */
export function staleReason(): string | undefined {
  const index = join(DASHBOARD_DIST, 'index.html');
  if (!existsSync(index)) return 'not built yet';
  const built = statSync(index).mtimeMs;
  const changed = SOURCES.find((s) => existsSync(join(here, s)) && newestMtime(join(here, s)) > built);
  return changed === undefined ? undefined : `${changed} changed since the last build`;
}

/**
 * Builds the dashboard with Vite when the build is missing or older than its
 * sources, so `sluice serve` right after `pnpm install` (or after editing the
 * dashboard) serves the current one. It builds into a directory of its own
 * and swaps it in, so a server that is already serving, or a second one
 * building at the same time, never sees half a build. Returns the directory.
 */
export async function ensureDashboardBuilt(log: (line: string) => void = () => undefined): Promise<string> {
  const reason = staleReason();
  if (reason === undefined) return DASHBOARD_DIST;
  log(`building the dashboard (${reason})`);
  const { build } = await import('vite');
  const next = `${DASHBOARD_DIST}.next-${process.pid}`;
  const previous = `${DASHBOARD_DIST}.previous-${process.pid}`;
  try {
    await build({ root: here, configFile: join(here, 'vite.config.ts'), logLevel: 'warn', build: { outDir: next, emptyOutDir: true } });
    if (existsSync(DASHBOARD_DIST)) renameSync(DASHBOARD_DIST, previous);
    renameSync(next, DASHBOARD_DIST);
  } finally {
    rmSync(next, { recursive: true, force: true });
    rmSync(previous, { recursive: true, force: true });
  }
  return DASHBOARD_DIST;
}
