import { createHash, timingSafeEqual } from 'node:crypto';
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

/**
 * API keys with scopes. With no keys configured every route is open: the
 * server refuses to start that way unless it is bound to loopback. Secrets are
 * compared as digests in constant time and never logged.
 */
export function installApiKeys(app: FastifyInstance, keys: readonly ApiKey[]): void {
  if (keys.length === 0) return;
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
