import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SiteKey } from '@sluice/schemas';
import { ProblemError } from './problem.js';

/** `site`: routes a web page calls with a site key (capture.site.keys), never with an API key */
export type Scope = 'ingest' | 'read' | 'admin' | 'site';
export interface ApiKey {
  name: string;
  secret: string;
  scopes: readonly Exclude<Scope, 'site'>[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** scope a caller's key must carry; routes without one are public (health, docs) */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** name of the key that authenticated the request, for logs (never the secret) */
    apiKeyName?: string;
    /** the site key of a `site` route's request: its name and the origins it may be used from */
    siteKey?: Pick<SiteKey, 'name' | 'origins'>;
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bearer, X-API-Key, or HTTP Basic with the key as the user name and no
 * password: how the Segment and RudderStack clients send their write key.
 */
function presentedSecret(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  if (header?.startsWith('Basic ')) {
    const credentials = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = credentials.indexOf(':');
    return colon < 0 ? credentials : credentials.slice(0, colon);
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

const LOOPBACK_ADDRESSES = new BlockList();
LOOPBACK_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK_ADDRESSES.addAddress('::1', 'ipv6');

/**
 * A loopback name or address: `localhost` and its subdomains (RFC 6761: they
 * never go to DNS), 127.0.0.0/8 and ::1 (also IPv4-mapped). Addresses are
 * parsed, not matched by prefix: `127.evil.example` is a name like any other.
 */
export function isLoopback(host: string): boolean {
  const name = host.toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const family = isIP(name);
  return family !== 0 && LOOPBACK_ADDRESSES.check(name, family === 4 ? 'ipv4' : 'ipv6');
}

/** The host of a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`); undefined when it is none of those. */
export function hostOfHeader(header: string): string | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::\d{1,5})?$/.exec(header);
  return match?.[1] ?? match?.[2];
}

/**
 * A keyless server answers only requests addressed to a loopback host. It
 * listens on loopback only, but a web page can still reach it: through a name
 * of the page's own that it re-points to 127.0.0.1 (DNS rebinding), the browser
 * then taking the answers as the page's. Such a request carries that name in
 * its Host header.
 */
function answerLoopbackHostsOnly(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const header = request.headers.host;
    const host = header === undefined ? undefined : hostOfHeader(header);
    if (host !== undefined && isLoopback(host)) return;
    throw new ProblemError(
      421,
      'misdirected-request',
      'Misdirected request',
      `this server runs without API keys, so it answers only requests addressed to localhost or a loopback address; the Host header was ${JSON.stringify(header ?? null)}. Configure API keys (SLUICE_API_KEYS) to serve other names`,
    );
  });
}

/**
 * API keys with scopes. With no keys configured every route is open: the
 * server refuses to start that way unless it is bound to loopback, and answers
 * only requests addressed to a loopback host. Secrets are compared as digests
 * in constant time and never logged.
 */
export function installApiKeys(app: FastifyInstance, keys: readonly ApiKey[], siteKeys: readonly SiteKey[] = []): void {
  installSiteKeys(app, siteKeys);
  if (keys.length === 0) {
    answerLoopbackHostsOnly(app);
    return;
  }
  const known = keys.map((k) => ({ ...k, digest: digest(k.secret) }));
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined || scope === 'site') return;
    const secret = presentedSecret(request);
    if (secret === undefined) throw new ProblemError(401, 'unauthorized', 'Unauthorized', 'an API key is required: send Authorization: Bearer <key> or X-API-Key');
    const d = digest(secret);
    const key = known.find((k) => timingSafeEqual(k.digest, d));
    if (!key) throw new ProblemError(401, 'unauthorized', 'Unauthorized', 'the API key is not valid');
    if (!key.scopes.includes(scope) && !key.scopes.includes('admin')) {
      throw new ProblemError(403, 'forbidden', 'Forbidden', `the key "${key.name}" lacks the "${scope}" scope`);
    }
    request.apiKeyName = key.name;
  });
}

/**
 * A site key is in the page's source, so it is no secret: it is looked up by
 * value, from the `key` query parameter (a beacon cannot set headers), and
 * what it may do is bounded by the route (web touchpoints, its origins, a rate).
 */
function installSiteKeys(app: FastifyInstance, siteKeys: readonly SiteKey[]): void {
  const byKey = new Map(siteKeys.map((k) => [k.key, k]));
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.scope !== 'site') return;
    const presented = (request.query as { key?: unknown }).key;
    if (typeof presented !== 'string' || presented === '') throw new ProblemError(401, 'unauthorized', 'Unauthorized', 'a site key is required: add ?key=<site key> (the data-key of the sluice.js tag)');
    const site = byKey.get(presented);
    if (!site) throw new ProblemError(401, 'unauthorized', 'Unauthorized', 'the site key is not valid');
    request.siteKey = { name: site.name, origins: site.origins };
  });
}
