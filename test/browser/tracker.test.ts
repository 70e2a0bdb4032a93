import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, DEFAULT_LIMITS } from '@sluice/api';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { CaptureSchema } from '@sluice/schemas';

type CaptureInput = Parameters<typeof CaptureSchema.parse>[0];

/**
 * /sluice.js as a site runs it: a page served on another origin (its own
 * port) loads the script from a listening Sluice with a site key, in headless
 * Chromium; what it sends is read back from the event store and through the
 * API. The browser's user agent is an ordinary Chrome's, since headless
 * traffic is dropped by default.
 */

const CHROMIUM = '/usr/bin/chromium';
const skipReason = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`;
if (skipReason) console.warn(`tracker browser tests skipped: ${skipReason}`);
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SITE_KEY = 'site_browser_test_01';
const READ_KEY = 'tracker-read-key-0123456789';

interface Sluice {
  dir: string;
  store: EventStore;
  app: Awaited<ReturnType<typeof buildApp>>;
  base: string;
}

async function startSluice(capture: CaptureInput): Promise<Sluice> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tracker-'));
  const store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [{ name: 'reader', secret: READ_KEY, scopes: ['read'] }], capture: CaptureSchema.parse(capture) });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { dir, store, app, base };
}

/** The site: a landing page with the tag, a marked form, a file link and an SPA route change; files answer 204 so a click stays on the page. */
function startSite(scriptBase: () => string): Promise<{ server: Server; origin: string }> {
  const page = (title: string) => `<!doctype html><html><head><title>${title}</title>
<script async src="${scriptBase()}/sluice.js" data-key="${SITE_KEY}"></script></head><body>
<h1>${title}</h1>
<form id="contact" data-sluice-form="contact-us" onsubmit="event.preventDefault()"><input name="email"><input name="company"><button>Send</button></form>
<a id="download" href="/files/Buyers%20Guide.pdf">Buyer's guide</a>
</body></html>`;
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/files/')) return void response.writeHead(204).end();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(request.url?.startsWith('/pricing') ? 'Pricing' : 'Welcome'));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

type Stored = { type: string; id: string; anonymousId?: string; leadId?: string; source?: string; channel?: string; campaign?: string; properties: Record<string, unknown> };
const storedEvents = async (store: EventStore): Promise<Stored[]> => (await store.readAll()).filter((e) => e.type !== 'identity_linked').map((e) => e.data as Stored);
const waitFor = async (store: EventStore, what: (events: Stored[]) => boolean) => expect.poll(async () => what(await storedEvents(store)), { timeout: 15_000, interval: 50 }).toBe(true);

describe.skipIf(skipReason)('sluice.js in headless Chromium, on a page of another origin', () => {
  let browser: Browser;
  let sluice: Sluice;
  let site: { server: Server; origin: string };
  let stranger: { server: Server; origin: string };
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    let scriptBase = '';
    site = await startSite(() => scriptBase);
    stranger = await startSite(() => scriptBase);
    sluice = await startSluice({ site: { keys: [{ name: 'site', key: SITE_KEY, origins: [site.origin] }] }, tracker: { flushMs: 0 } });
    scriptBase = sluice.base;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ userAgent: USER_AGENT });
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sluice?.app.close();
    await sluice?.store.close();
    site?.server.close();
    stranger?.server.close();
    if (sluice) rmSync(sluice.dir, { recursive: true, force: true });
  });

  it('a landing with UTM parameters is a visit and a page view, attributed to paid search for the session', async () => {
    await page.goto(`${site.origin}/?utm_source=google&utm_medium=cpc&utm_campaign=spring-crm`);
    await waitFor(sluice.store, (events) => events.some((e) => e.type === 'page_view'));
    const [visit, view] = await storedEvents(sluice.store);
    const anonymousId = (await context.cookies(site.origin)).find((c) => c.name === 'sluice_aid')?.value;
    expect(anonymousId).toMatch(/^[0-9a-f]{32}$/);
    const attribution = { anonymousId, source: 'google', channel: 'paid_search', campaign: 'spring-crm' };
    expect(visit).toMatchObject({ type: 'visit', ...attribution, properties: { url: `${site.origin}/?utm_source=google&utm_medium=cpc&utm_campaign=spring-crm` } });
    expect(view).toMatchObject({ type: 'page_view', ...attribution, properties: { title: 'Welcome', x: { path: '/' } } });
    expect(view!.properties.x).toMatchObject({ sessionId: (visit!.properties.x as { sessionId: string }).sessionId });
  });

  it('a route change of a single-page app is the second page view, same session and attribution', async () => {
    await page.evaluate("history.pushState({}, '', '/pricing?plan=team')");
    await waitFor(sluice.store, (events) => events.filter((e) => e.type === 'page_view').length === 2);
    const views = (await storedEvents(sluice.store)).filter((e) => e.type === 'page_view');
    expect(views[1]).toMatchObject({ channel: 'paid_search', campaign: 'spring-crm', properties: { url: `${site.origin}/pricing?plan=team`, x: { path: '/pricing' } } });
    expect((await storedEvents(sluice.store)).filter((e) => e.type === 'visit')).toHaveLength(1);
  });

  it('a marked form sends form_submit and identifies the visitor: the anonymous visit is then in the lead history the API answers', async () => {
    await page.fill('input[name=email]', 'ann@shop.example');
    await page.fill('input[name=company]', 'Acme');
    await page.click('#contact button');
    await waitFor(sluice.store, (events) => events.some((e) => e.type === 'identify'));
    const events = await storedEvents(sluice.store);
    expect(events.find((e) => e.type === 'form_submit')).toMatchObject({ properties: { formId: 'contact-us' } });
    expect(events.find((e) => e.type === 'identify')).toMatchObject({ leadId: 'ann@shop.example', properties: { email: 'ann@shop.example', company: 'Acme' } });
    const history = await sluice.app.inject({ method: 'GET', url: '/v1/leads/ann@shop.example/events', headers: { authorization: `Bearer ${READ_KEY}` } });
    expect(history.statusCode).toBe(200);
    const types = history.json().touchpoints.map((t: { event: { type: string } }) => t.event.type);
    expect(types.slice(0, 3)).toEqual(['visit', 'page_view', 'page_view']);
    expect(history.json().linkedAnonymousIds).toEqual([events[0]!.anonymousId]);
  });

  it('a click on a link to a file is a content_download, now carrying the lead id', async () => {
    await page.click('#download');
    await waitFor(sluice.store, (events) => events.some((e) => e.type === 'content_download'));
    expect((await storedEvents(sluice.store)).find((e) => e.type === 'content_download')).toMatchObject({
      leadId: 'ann@shop.example',
      properties: { contentId: 'Buyers-Guide.pdf', title: 'Buyers Guide.pdf', x: { url: `${site.origin}/files/Buyers%20Guide.pdf` } },
    });
  });

  it('the site key cannot write payment or sales_accepted: 403, readable by the allowed page, nothing written', async () => {
    const before = await sluice.store.headPosition();
    const statuses = await page.evaluate(async ([endpoint, leadId]) => {
      const send = (type: string, properties: object) =>
        fetch(endpoint!, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify([{ id: `forged-${type}`, type, occurredAt: new Date().toISOString(), leadId, properties }]) }).then((r) => r.status);
      return [await send('payment', { amount: 99, currency: 'EUR' }), await send('sales_accepted', {})];
    }, [`${sluice.base}/v1/collect?key=${SITE_KEY}`, 'ann@shop.example']);
    expect(statuses).toEqual([403, 403]);
    expect(await sluice.store.headPosition()).toBe(before);
  });

  it('a page on an origin the key does not list is refused by CORS, and nothing of it is stored', async () => {
    const other = await context.newPage();
    const refusals: string[] = [];
    other.on('console', (message) => message.text().includes('CORS') && refusals.push(message.text()));
    const before = await sluice.store.headPosition();
    await other.goto(`${stranger.origin}/`);
    const outcome = await other.evaluate(async (endpoint) => {
      try {
        await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '[]' });
        return 'answered';
      } catch (err) {
        return String(err);
      }
    }, `${sluice.base}/v1/collect?key=${SITE_KEY}`);
    expect(outcome).toBe('TypeError: Failed to fetch');
    expect(refusals.some((text) => text.includes(stranger.origin))).toBe(true);
    expect(await sluice.store.headPosition()).toBe(before);
    await other.close();
  });
});

describe.skipIf(skipReason)('sluice.js with consent required (lead ids hashed, Do Not Track honoured)', () => {
  let browser: Browser;
  let sluice: Sluice;
  let site: { server: Server; origin: string };

  beforeAll(async () => {
    let scriptBase = '';
    site = await startSite(() => scriptBase);
    sluice = await startSluice({ site: { keys: [{ name: 'site', key: SITE_KEY, origins: [site.origin] }] }, tracker: { flushMs: 0, consentRequired: true, hashLeadId: true, honorDoNotTrack: true } });
    scriptBase = sluice.base;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sluice?.app.close();
    await sluice?.store.close();
    site?.server.close();
    if (sluice) rmSync(sluice.dir, { recursive: true, force: true });
  });

  it('nothing is stored or sent before sluice.consent(true); then what waited is sent, under a stored id', async () => {
    const context = await browser.newContext({ userAgent: USER_AGENT });
    const page = await context.newPage();
    const collected: string[] = [];
    page.on('request', (request) => request.url().includes('/v1/collect') && collected.push(request.postData() ?? ''));
    await page.goto(`${site.origin}/?utm_source=newsletter&utm_medium=email`);
    await page.waitForFunction("'sluice' in window");
    await page.evaluate("history.pushState({}, '', '/pricing')");
    await page.fill('input[name=email]', 'Bob@Shop.Example ');
    await page.click('#contact button');
    // the page hides: a tracker with something to send would beacon it now
    await page.evaluate("dispatchEvent(new Event('pagehide'))");
    // a request of the page's own after the pagehide: a beacon, had there been one, was sent before it
    expect(await page.evaluate(`fetch('${sluice.base}/healthz', { mode: 'no-cors' }).then(() => 'answered')`)).toBe('answered');
    expect(await page.evaluate('[document.cookie, localStorage.length]')).toEqual(['', 0]);
    expect(collected).toEqual([]);
    expect(await sluice.store.headPosition()).toBe(0);

    await page.evaluate('sluice.consent(true)');
    await waitFor(sluice.store, (events) => events.some((e) => e.type === 'identify'));
    const events = await storedEvents(sluice.store);
    expect(events.map((e) => e.type)).toEqual(['visit', 'page_view', 'page_view', 'form_submit', 'identify']);
    const hashed = createHash('sha256').update('bob@shop.example').digest('hex');
    expect(events.find((e) => e.type === 'identify')).toMatchObject({ leadId: hashed, channel: 'email', source: 'newsletter' });
    expect(events.find((e) => e.type === 'identify')!.properties.email).toBeUndefined();
    expect((await context.cookies(site.origin)).map((c) => c.name).sort()).toEqual(['sluice_aid', 'sluice_consent', 'sluice_lid', 'sluice_session']);
    await context.close();
  });

  it('a browser saying Do Not Track sends nothing, consent or not', async () => {
    const context = await browser.newContext({ userAgent: USER_AGENT });
    // headless Chromium has no Do Not Track setting to switch on: the page sees the property a browser with it on has
    await context.addInitScript("Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })");
    const page = await context.newPage();
    const collected: string[] = [];
    page.on('request', (request) => request.url().includes('/v1/collect') && collected.push(request.url()));
    const before = await sluice.store.headPosition();
    await page.goto(`${site.origin}/`);
    await page.waitForFunction("'sluice' in window");
    await page.evaluate("sluice.consent(true); sluice.track('page_view', { url: location.href }); dispatchEvent(new Event('pagehide'))");
    // a request of the page's own after the pagehide: a beacon, had there been one, was sent before it
    expect(await page.evaluate(`fetch('${sluice.base}/healthz', { mode: 'no-cors' }).then(() => 'answered')`)).toBe('answered');
    expect(collected).toEqual([]);
    expect(await sluice.store.headPosition()).toBe(before);
    await context.close();
  });
});
