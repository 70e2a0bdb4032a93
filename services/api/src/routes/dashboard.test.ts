import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { buildApp, DEFAULT_LIMITS } from '../app.js';

let dir: string;
let store: EventStore;
let app: FastifyInstance;
const SCRIPT = `console.log(${JSON.stringify('dashboard '.repeat(200))})`;

beforeAll(async () => {
  // a build's shape: index.html naming content-hashed files under assets/
  dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-assets-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/index-3f2a9c.js"></script>');
  writeFileSync(join(dir, 'assets', 'index-3f2a9c.js'), SCRIPT);
  // the build writes compressed twins beside each script and style (services/dashboard/precompress.ts)
  writeFileSync(join(dir, 'assets', 'index-3f2a9c.js.br'), brotliCompressSync(SCRIPT));
  writeFileSync(join(dir, 'assets', 'index-3f2a9c.js.gz'), gzipSync(SCRIPT));
  store = await openSqliteEventStore({ path: ':memory:' });
  app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [{ name: 'dash', secret: 'read-secret-0123456789', scopes: ['read'] }], dashboard: { root: dir } });
});

afterAll(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard assets', () => {
  it('given a request for /, then index.html comes back revalidated on every load, without a key', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers.etag).toBeTruthy();
    expect(res.body).toContain('/assets/index-3f2a9c.js');
  });

  it('given a content-hashed asset, then it is cached for a year as immutable', async () => {
    const res = await app.inject({ method: 'GET', url: '/assets/index-3f2a9c.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('javascript');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('given a client that accepts brotli or gzip, then the asset comes compressed, decompressing to the file, and says it varies by Accept-Encoding', async () => {
    const br = await app.inject({ method: 'GET', url: '/assets/index-3f2a9c.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect([br.statusCode, br.headers['content-encoding'], br.headers.vary]).toEqual([200, 'br', 'accept-encoding']);
    expect(br.headers['content-type']).toContain('javascript');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.rawPayload.length).toBeLessThan(SCRIPT.length);
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(SCRIPT);
    const gz = await app.inject({ method: 'GET', url: '/assets/index-3f2a9c.js', headers: { 'accept-encoding': 'gzip' } });
    expect([gz.statusCode, gz.headers['content-encoding'], gz.headers.vary]).toEqual([200, 'gzip', 'accept-encoding']);
    expect(gunzipSync(gz.rawPayload).toString()).toBe(SCRIPT);
  });

  it('given a client that accepts no compression, then the plain file comes back', async () => {
    const plain = await app.inject({ method: 'GET', url: '/assets/index-3f2a9c.js', headers: { 'accept-encoding': 'identity' } });
    expect([plain.statusCode, plain.headers['content-encoding'], plain.headers.vary]).toEqual([200, undefined, 'accept-encoding']);
    expect(plain.body).toBe(SCRIPT);
  });

  it('given a compressed twin\'s own name, then it is no page of its own: the API answers 404', async () => {
    expect((await app.inject({ method: 'GET', url: '/assets/index-3f2a9c.js.br' })).statusCode).toBe(404);
  });

  it('given an unknown path, then the API answers its problem 404 and the API routes keep their keys', async () => {
    const missing = await app.inject({ method: 'GET', url: '/assets/nothing.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect((await app.inject({ method: 'GET', url: '/v1/leads/x/events' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
