/**
 * Where tests get an EventStoreDB, in the order docs/architecture.md sets for
 * every service: an explicit EVENTSTORE_URL, else a container when a Docker
 * engine answers, else a skip with every reason joined. There is no
 * local-process step: EventStoreDB ships as packages and images outside the
 * registries our machines reach, so none runs there.
 *
 * To get the EventStoreDB variants of the event-store tests:
 * - with Docker: make sure `docker info` works for your user (or DOCKER_HOST
 *   points at the engine) and run `pnpm vitest run packages/event-store`. Each
 *   test file starts one eventstore/eventstore container (insecure, in-memory)
 *   and removes it at the end; the first run pulls the image.
 * - without Docker: EVENTSTORE_URL=esdb://host:2113?tls=false (any
 *   @eventstore/db-client connection string) points the tests at a server of
 *   your own; every store a test opens lives under its own stream prefix.
 */
import { noDockerEngine, pingDockerEngine, type ResolveServiceOptions } from './docker.js';

export type EventStoreDbResolution =
  | { connectionString: string; source: 'environment' }
  /** `stop` removes the container: call it when the tests are done with it. */
  | { connectionString: string; source: 'container'; stop: () => Promise<void> }
  | { skip: string };

/** 24.10 LTS: stream reads carry $all positions (needs 22.6+), the adapter relies on that. */
const EVENTSTORE_IMAGE = 'eventstore/eventstore:24.10';
const HTTP_PORT = 2113;

export async function resolveEventStoreDb(options: ResolveServiceOptions = {}): Promise<EventStoreDbResolution> {
  const { env = process.env, dockerEngine = pingDockerEngine } = options;
  // Used as given, never probed: a server that is down should fail the tests, not skip them.
  const explicit = env.EVENTSTORE_URL?.trim();
  if (explicit) return { connectionString: explicit, source: 'environment' };
  const engine = await dockerEngine(env);
  // An engine that answers but cannot start the container is a fault to see, not a reason to skip.
  if (engine.answers) return startEventStoreDbContainer();
  return { skip: ['EVENTSTORE_URL is not set', noDockerEngine(engine)].join('; ') };
}

/**
 * testcontainers is imported here, not at the top, so a machine without
 * Docker never loads it. /health/live answers 204 once the node accepts gRPC.
 */
async function startEventStoreDbContainer(): Promise<EventStoreDbResolution> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(EVENTSTORE_IMAGE)
    .withEnvironment({
      EVENTSTORE_INSECURE: 'true',
      EVENTSTORE_MEM_DB: 'true',
      EVENTSTORE_RUN_PROJECTIONS: 'None',
      EVENTSTORE_CLUSTER_SIZE: '1',
    })
    .withExposedPorts(HTTP_PORT)
    .withWaitStrategy(Wait.forHttp('/health/live', HTTP_PORT).forStatusCode(204))
    .start();
  const connectionString = `esdb://${container.getHost()}:${container.getMappedPort(HTTP_PORT)}?tls=false`;
  return { connectionString, source: 'container', stop: async () => void (await container.stop()) };
}
