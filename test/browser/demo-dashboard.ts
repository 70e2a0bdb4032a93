import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

/**
 * The dashboard as a person uses it, shared by the browser suites that read
 * it: `sluice serve --demo` in its own process and data directory, with API
 * keys, and the real page in headless Chromium.
 *
 * "Now" is an instant the suite picks, never the wall clock: the demo's
 * history ends at it (--end), the page's clock is fixed at it, and the events
 * a test writes happen at it, so what a suite checks cannot depend on the day
 * it runs.
 */

const CHROMIUM = '/usr/bin/chromium';
export const chromiumSkipReason = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`;

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const screenshots = join(repoRoot, 'test-results', 'screenshots');
export const READ_KEY = 'dashboard-read-key-0123456789';
export const INGEST_KEY = 'dashboard-ingest-key-0123456789';
// closed network: without the background-networking flags Chromium's own connections are refused and it stalls
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface DemoDashboard {
  /** the instant the demo ends at and the page's clock starts from (ms) */
  now: number;
  /** the dashboard's address, the API's too */
  base: string;
  context: BrowserContext;
  page: Page;
  /** the API's answer to a request, asked by the test (200 expected) */
  api<T>(method: 'GET' | 'POST', path: string, body?: unknown, key?: string): Promise<T>;
  /** the view `view` shows its numbers */
  ready(view: string): Promise<unknown>;
  /** a full-page screenshot in test-results/screenshots/<now's date>/<name>.png */
  snap(name: string): Promise<void>;
  /** `data-value` of one field in every row of a table, keyed by a row attribute */
  column(rows: string, key: string, fieldName: string): Promise<Record<string, number | null>>;
  /** signs in with the read key on the login form the page shows at first */
  signIn(view: string): Promise<void>;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** `sluice serve --demo` as the README runs it, until it prints the dashboard's address. */
function startServe(dir: string, port: number, end: string, events: number): { child: ChildProcess; listening: Promise<string> } {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_API_KEYS: `dash:read:${READ_KEY},tracker:ingest:${INGEST_KEY}` };
  delete env.CLICKHOUSE_URL; // the embedded default
  delete env.SLUICE_CONFIG;
  delete env.SLUICE_TIME_ZONE; // the months a suite reads off the page are UTC months
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'packages', 'cli', 'src', 'main.ts'), 'serve', '--demo', '--events', String(events), '--end', end, '--data-dir', join(dir, 'data'), '--port', String(port)],
    { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const listening = new Promise<string>((resolve, reject) => {
    const onOutput = (chunk: Buffer) => {
      log += chunk.toString();
      const url = /Dashboard: (http:\S+?)\/?\n/.exec(log)?.[1];
      if (url) resolve(url);
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.on('exit', (code) => reject(new Error(`sluice serve exited with ${code}:\n${log}`)));
  });
  return { child, listening };
}

/** Starts the demo ending at `instant` and a page whose clock starts there; resolves once the API's answers have settled. */
export async function startDemoDashboard(instant: string, options: { events: number; viewport: { width: number; height: number } }): Promise<DemoDashboard> {
  const now = Date.parse(instant);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-'));
  const day = instant.slice(0, 10);
  mkdirSync(join(screenshots, day), { recursive: true });
  const { child, listening } = startServe(dir, await freePort(), instant, options.events);
  let context: BrowserContext | undefined;
  const close = async () => {
    await context?.close();
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const base = await listening;
    const api = async <T>(method: 'GET' | 'POST', path: string, body?: unknown, key = READ_KEY): Promise<T> => {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      expect(res.status, `${method} ${path}: ${text.slice(0, 500)}`).toBe(200);
      return JSON.parse(text) as T;
    };
    await caughtUp(base, now, api);
    context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: options.viewport });
    // the page's "now" (its default months, the planner's quarter and asOf) is the instant the demo ends at, and runs on from
    // there; only Date moves (a fake clock would stop the performance marks the first-view timing reads)
    await context.addInitScript((instantMs: number) => {
      const RealDate = Date;
      const shift = instantMs - RealDate.now();
      class ShiftedDate extends RealDate {
        constructor(...args: unknown[]) {
          if (args.length === 0) super(RealDate.now() + shift);
          else super(...(args as [string]));
        }
        static override now(): number {
          return RealDate.now() + shift;
        }
      }
      globalThis.Date = ShiftedDate as DateConstructor;
    }, now);
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => console.error('page error:', err.message));
    const ready = (view: string) => page.waitForSelector(`#view[data-view="${view}"][data-state="ready"]`, { timeout: 60_000 });
    return {
      now,
      base,
      context,
      page,
      api,
      ready,
      close,
      async snap(name) {
        await page.waitForTimeout(0); // let the charts initialise on the next frame
        await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
        await page.screenshot({ path: join(screenshots, day, `${name}.png`), fullPage: true });
      },
      async column(rows, key, fieldName) {
        const out: Record<string, number | null> = {};
        for (const row of await page.locator(rows).all()) {
          const value = await row.locator(`[data-field="${fieldName}"]`).getAttribute('data-value');
          out[(await row.getAttribute(key))!] = value === '' || value === null ? null : Number(value);
        }
        return out;
      },
      async signIn(view) {
        await page.goto(`${base}/#/${view}`);
        await page.waitForSelector('#view[data-state="login"]');
        await page.fill('input[name="key"]', READ_KEY);
        await page.click('form.login button[type="submit"]');
        await ready(view);
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The demo is written before the server listens, but the projector and the
 * ClickHouse sinks follow it afterwards: the page and the test must read the
 * same settled data. The projector's lag is in /metrics; the sinks have no
 * gauge, so a whole-history conversion is asked until two answers agree.
 */
async function caughtUp(base: string, now: number, api: DemoDashboard['api']): Promise<void> {
  const metrics = async () => (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${READ_KEY}` } })).text();
  while (!/^sluice_projection_lag_events 0$/m.test(await metrics())) await sleep(500);
  const day = 86_400_000;
  const dateRange = { from: new Date(now - 400 * day).toISOString(), to: new Date(now + 31 * day).toISOString() };
  const answer = async () => JSON.stringify(await api('POST', '/v1/conversion', { dateRange, period: 'month', pairs: 'step_to_step' }));
  for (let previous = '', latest = await answer(); latest !== previous; previous = latest, latest = await answer()) await sleep(1000);
}
