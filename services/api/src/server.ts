import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { ApiDeps } from './app.js';
import { isLoopback } from './auth.js';

export interface ListenOptions {
  host: string;
  port: number;
}

export class InsecureBindError extends Error {
  constructor(host: string) {
    super(`refusing to listen on ${host} without API keys: set SLUICE_API_KEYS (name:scope+scope:secret,...) or bind to 127.0.0.1`);
  }
}

/**
 * Listens and wires graceful shutdown: on SIGINT/SIGTERM the server stops
 * accepting, finishes in-flight requests (so every append that was started is
 * either durable and answered, or never acknowledged), then runs `onClosed`
 * (the composition root closes the store there).
 */
export async function startServer(deps: ApiDeps, listen: ListenOptions, onClosed: () => Promise<void>): Promise<FastifyInstance> {
  if (!isLoopback(listen.host) && deps.apiKeys.length === 0) throw new InsecureBindError(listen.host);
  const app = await buildApp(deps);
  app.addHook('onClose', onClosed);
  await app.listen({ host: listen.host, port: listen.port });
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    await app.close();
  });
  return app;
}
