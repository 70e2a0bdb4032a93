import { createServer } from 'node:net';
import { serve as serveRole } from '@sluice/app';
import type { EventStore } from '@sluice/event-store';
import { ProjectionConfigMismatchError } from '@sluice/projector';
import { CliError } from '../output.js';
import { ensureDataDir } from '../settings.js';
import type { Settings } from '../settings.js';

/**
 * `sluice serve`: the application layer's serving roles (@sluice/app): the
 * embedded default (every follower and the API in this process) or, with
 * server.readModels on PostgreSQL, an API replica that only reads. This
 * command holds the port until the API binds it and says where it listens.
 */
export async function serve(store: EventStore, settings: Settings, port: PortReservation): Promise<void> {
  try {
    // the read models and chDB live here whichever store holds the log
    ensureDataDir(settings.dataDir);
  } catch (err) {
    await store.close();
    throw err;
  }
  let serving;
  try {
    serving = await serveRole(store, settings, () => port.release());
  } catch (err) {
    if (err instanceof ProjectionConfigMismatchError) throw new CliError(`${err.message}\nrun \`sluice rebuild\` to rebuild the read models under the current rules`);
    throw new CliError((err as Error).message);
  }
  const address = `http://${hostPort(settings.host, serving.port)}`;
  const kafka = settings.config.server.kafka;
  const ingestion = kafka ? `ingest to Kafka at ${kafka.brokers.join(',')}` : `data in ${settings.dataDir}`;
  const role = serving.role === 'api-replica' ? ', an API replica reading the projector\'s read models' : '';
  console.error(`Sluice is listening on ${address} (${ingestion}, analytics on ${serving.analyticsBackend}${role}); API docs at ${address}/docs`);
  if (serving.dashboard) console.error(`Dashboard: ${address}/`);
}

/** host:port bound until released: a port in use fails the start at once, before anything is written (the demo's events, say). */
export interface PortReservation {
  release(): Promise<void>;
}

export async function reservePort(host: string, port: number): Promise<PortReservation> {
  // a client that connects meanwhile is turned away at once: a connection held open would keep close() from finishing
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, resolve);
  }).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(cannotListen(hostPort(host, port), err));
  });
  let released: Promise<void> | undefined;
  return { release: () => (released ??= new Promise((resolve) => server.close(() => resolve()))) };
}

function cannotListen(at: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${at}: the port is in use (another \`sluice serve\`?); stop what holds it, or pick another port with --port`;
    case 'EACCES':
      return `cannot listen on ${at}: permission denied (ports below 1024 need privileges); pick another port with --port`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `cannot listen on ${at}: this machine has no such address; check --host`;
    default:
      return `cannot listen on ${at}: ${err.message}`;
  }
}

const hostPort = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;
