/**
 * Whether a Docker engine answers, asked before any testcontainers module is
 * loaded: our own machines have none, and there resolution must fall through
 * to the next way of getting a service without paying for testcontainers.
 *
 * The probe asks where testcontainers itself looks first: DOCKER_HOST, else
 * the default socket. Docker Desktop and rootless setups whose socket lives
 * elsewhere set DOCKER_HOST (testcontainers honours it too).
 */
import { request } from 'node:http';

export type Environment = Readonly<Record<string, string | undefined>>;

export type DockerEngine = { answers: true } | { answers: false; reason: string };

/** How a resolver learns whether an engine answers; tests inject a fake, since no engine runs on our machines. */
export type DockerProbe = (env: Environment) => Promise<DockerEngine>;

/** What every service resolver takes: the environment and the Docker probe, both real by default. */
export interface ResolveServiceOptions {
  env?: Environment;
  dockerEngine?: DockerProbe;
}

const PROBE_TIMEOUT_MS = 2000;

/** GET /_ping on DOCKER_HOST (unix:// or tcp://) or the default socket. */
export function pingDockerEngine(env: Environment): Promise<DockerEngine> {
  const dockerHost = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  let target: { socketPath: string } | { host: string; port: number };
  if (dockerHost.startsWith('unix://')) {
    target = { socketPath: dockerHost.slice('unix://'.length) };
  } else if (dockerHost.startsWith('tcp://')) {
    const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
    target = { host: url.hostname, port: Number(url.port || 2375) };
  } else {
    return Promise.resolve({ answers: false, reason: `unsupported DOCKER_HOST ${dockerHost}` });
  }
  return new Promise((resolve) => {
    const ping = request({ ...target, path: '/_ping', timeout: PROBE_TIMEOUT_MS }, (response) => {
      response.resume();
      resolve(
        response.statusCode === 200
          ? { answers: true }
          : { answers: false, reason: `${dockerHost} answered /_ping with HTTP ${response.statusCode}` },
      );
    });
    ping.on('timeout', () => ping.destroy(new Error(`${dockerHost}: no answer within ${PROBE_TIMEOUT_MS} ms`)));
    // e.g. "connect ENOENT /var/run/docker.sock": the message names the socket or address tried
    ping.on('error', (err) => resolve({ answers: false, reason: err.message }));
    ping.end();
  });
}

/** The part of a skip reason that says why no container was started. */
export function noDockerEngine(engine: { reason: string }): string {
  return `no Docker engine (${engine.reason})`;
}
