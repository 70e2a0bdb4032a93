import { z } from 'zod';

/**
 * The process part of the configuration: where the API listens, where data
 * lives, who may call it. Not part of the rules: changing it never changes a
 * read model, so it is left out of the rule version's fingerprint.
 */

export const API_SCOPES = ['ingest', 'read', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const ApiKeySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be 1-64 characters: letters, digits, . _ -' }),
  scopes: z.array(z.enum(API_SCOPES)).min(1),
  secret: z.string().min(16, { message: 'must be at least 16 characters' }).max(512),
});
export type ApiKey = z.output<typeof ApiKeySchema>;

/**
 * Where the touchpoint log lives: SQLite in the data directory (the embedded
 * default), or a PostgreSQL schema shared by the distributed processes.
 */
export const EventStoreSchema = z.discriminatedUnion('adapter', [
  z.strictObject({ adapter: z.literal('sqlite') }),
  z.strictObject({
    adapter: z.literal('postgres'),
    url: z.string().regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// connection URL' }),
    schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a lowercase PostgreSQL identifier' }).default('sluice'),
  }),
]);
export type EventStoreChoice = z.output<typeof EventStoreSchema>;

/**
 * Where readers find the read models: the projector's SQLite file in the data
 * directory (the embedded default), or a PostgreSQL schema that `sluice
 * project` copies them into (@sluice/read-models-postgres), so API replicas
 * in distributed mode read without projecting.
 */
export const ReadModelsSchema = z.discriminatedUnion('adapter', [
  z.strictObject({ adapter: z.literal('sqlite') }),
  z.strictObject({
    adapter: z.literal('postgres'),
    url: z.string().regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// connection URL' }),
    schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a lowercase PostgreSQL identifier' }).default('sluice_read'),
  }),
]);
export type ReadModelsChoice = z.output<typeof ReadModelsSchema>;

/** How long POST /v1/events waits for Kafka's acknowledgement before answering 503 (the events not accepted). */
export const DEFAULT_PRODUCE_DEADLINE_MS = 10_000;

/**
 * Distributed ingestion: with this section the API produces accepted events
 * to Kafka instead of appending them, and the kafka-bridge process appends
 * them to the event store.
 */
export const KafkaSchema = z.strictObject({
  brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, { message: 'must be host:port' })).min(1),
  clientId: z.string().min(1).max(100).default('sluice'),
  /** topics are <prefix>.touchpoints, <prefix>.touchpoints.dlq and <prefix>.lead-changes */
  topicPrefix: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, { message: 'must be 1-100 characters: letters, digits, . _ -' }).default('sluice'),
  /** partitions of the topics created at start-up: the most bridge consumers (or projector instances) that can share the work */
  partitions: z.number().int().min(1).max(1000).default(12),
  replicationFactor: z.number().int().min(1).max(10).default(1),
  /**
   * how long the API waits for Kafka to acknowledge an ingest request before
   * answering 503 kafka-unavailable; kept below the usual 30-60 s HTTP client
   * timeouts so clients get an answer rather than a dropped connection
   */
  produceDeadlineMs: z.number().int().min(100).max(120_000).default(DEFAULT_PRODUCE_DEADLINE_MS),
  bridge: z
    .strictObject({
      groupId: z.string().min(1).default('sluice-kafka-bridge'),
      /** where the bridge serves /metrics (0: any free port) */
      metricsPort: z.number().int().min(0).max(65535).default(4781),
      /** most events appended in one store transaction */
      maxBatchEvents: z.number().int().positive().default(5_000),
      /** most events being appended at once across partitions; past it the bridge pauses fetching */
      maxInFlightEvents: z.number().int().positive().default(20_000),
      /** how long the group waits for a silent member (a killed bridge) before handing its partitions to the others */
      sessionTimeoutMs: z.number().int().min(6_000).max(300_000).default(30_000),
    })
    .prefault({}),
});
export type KafkaConfig = z.output<typeof KafkaSchema>;

/**
 * The projector as its own process (`sluice project`): where it serves
 * /healthz and /metrics, and how long a partition lease lasts when instances
 * share the leads (`--partitions i/N`).
 */
export const ProjectorServiceSchema = z.strictObject({
  /** 0: any free port */
  port: z.number().int().min(0).max(65535).default(4782),
  /** a lease not renewed for this long is free: how soon a standby takes over a killed instance's partition */
  leaseSeconds: z.number().int().min(2).max(600).default(15),
});
export type ProjectorServiceConfig = z.output<typeof ProjectorServiceSchema>;

/**
 * How long an answer from the read models or ClickHouse waits for the
 * followers it reads to reach the log's head as of the request, before it
 * answers from what they hold, marked caughtUp: false.
 */
export const DEFAULT_FRESHNESS_WAIT_MS = 2_000;

export const ServerSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(4780),
    dataDir: z.string().min(1).default('./.sluice'),
    apiKeys: z
      .array(ApiKeySchema)
      .default([])
      .superRefine((keys, ctx) => {
        const names = new Set<string>();
        const secrets = new Set<string>();
        keys.forEach((k, i) => {
          if (names.has(k.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], input: k.name, message: `duplicate key name "${k.name}"` });
          // never echo a secret in an error
          if (secrets.has(k.secret)) ctx.addIssue({ code: 'custom', path: [i, 'secret'], input: '***', message: 'same secret as an earlier key' });
          names.add(k.name);
          secrets.add(k.secret);
        });
      }),
    batch: z
      .strictObject({
        maxEvents: z.number().int().positive().default(10_000),
        bodyLimitBytes: z.number().int().positive().default(16 * 1024 * 1024),
      })
      .prefault({}),
    eventStore: EventStoreSchema.prefault({ adapter: 'sqlite' }),
    readModels: ReadModelsSchema.prefault({ adapter: 'sqlite' }),
    /** absent: the embedded mode (the API appends to the store itself) */
    kafka: KafkaSchema.optional(),
    projector: ProjectorServiceSchema.prefault({}),
    /** 0 answers at once; the wait counts against a query's timeoutSeconds */
    freshnessWaitMs: z.number().int().min(0).max(60_000).default(DEFAULT_FRESHNESS_WAIT_MS),
  })
  .prefault({});
export type ServerConfig = z.output<typeof ServerSchema>;
