import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from './problem.js';

export type Scope = 'ingest' | 'read' | 'admin';
export interface ApiKey {
  name: string;
  secret: string;
  scopes: readonly Scope[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** scope a caller's key must carry; routes without one are public (health, docs) */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** name of the key that authenticated the request, for logs (never the secret) */
    apiKeyName?: string;
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function presentedSecret(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
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
export function installApiKeys(app: FastifyInstance, keys: readonly ApiKey[]): void {
  if (keys.length === 0) {
    answerLoopbackHostsOnly(app);
    return;
  }
  const known = keys.map((k) => ({ ...k, digest: digest(k.secret) }));
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined) return;
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
