import { migrateSchema } from '@sluice/event-store-postgres';
import pg from 'pg';
import type { ClientBase, PoolConfig } from 'pg';

/**
 * The quoted, schema-qualified names of one copy's tables. Every statement
 * takes its names from here, so a schema name reaches SQL only through
 * escapeIdentifier.
 */
export interface ReadModelObjects {
  readonly schema: string;
  readonly version: string;
  readonly state: string;
  readonly leads: string;
  readonly transitions: string;
  readonly links: string;
  readonly counters: string;
  readonly changes: string;
  readonly parked: string;
  readonly replicaParked: string;
  readonly migrateLock: string;
}

export function readModelObjects(schema: string): ReadModelObjects {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new RangeError(`the read models' schema must be a lowercase PostgreSQL identifier, got ${JSON.stringify(schema)}`);
  const qualified = (name: string) => `${pg.escapeIdentifier(schema)}.${name}`;
  return {
    schema,
    version: qualified('read_models_schema'),
    state: qualified('replica_state'),
    leads: qualified('leads'),
    transitions: qualified('stage_transitions'),
    links: qualified('identity_links'),
    counters: qualified('conversion_days'),
    changes: qualified('derived_changes'),
    parked: qualified('parked_events'),
    replicaParked: qualified('replica_parked'),
    migrateLock: `sluice.read-models.migrate:${schema}`,
  };
}

/**
 * MIGRATIONS[v] takes a copy from version v to v + 1 (append, never edit).
 *
 * v1: the projector's read-model tables (packages/projector store/schema.ts)
 * in the same shape, so the projector's row types and pure code read them:
 * times as epoch ms (bigint), booleans as 0/1, text compared byte by byte
 * (COLLATE "C", SQLite's order) so listings page in the same order.
 * - `replica_state`: the one row saying what the copy holds: the build and
 *   checkpoint of the projector's file it copied, the last change number the
 *   feed gave out, and the rules the models were built under. Moved
 *   compare-and-set in the transaction that writes the rows.
 * - `leads.changed_at`: the checkpoint of the projector's flush that last
 *   wrote the subject (its `subject_changes` mark): the stage feed.
 * - `parked_events`: the projector's parked events, copied.
 * - `replica_parked`: subjects this copy could not write (PostgreSQL refused
 *   a row the projector's SQLite file holds, e.g. text with U+0000), by the
 *   checkpoint they were read at.
 */
const MIGRATIONS: readonly ((o: ReadModelObjects) => string)[] = [
  (o) => `
    CREATE TABLE ${o.state} (
      id                 integer PRIMARY KEY CHECK (id = 1),
      build              text    NOT NULL,
      position           bigint  NOT NULL,
      change_seq         bigint  NOT NULL,
      config_version     text,
      config_fingerprint text,
      time_zone          text,
      stages             text
    );
    INSERT INTO ${o.state} (id, build, position, change_seq) VALUES (1, '', 0, 0);

    CREATE TABLE ${o.leads} (
      subject                     text COLLATE "C" PRIMARY KEY,
      kind                        text COLLATE "C" NOT NULL,
      id                          text COLLATE "C" NOT NULL,
      merged_into                 text COLLATE "C",
      config_version              text COLLATE "C" NOT NULL,
      stage                       text COLLATE "C",
      stage_entered_at            bigint,
      stages                      text NOT NULL,
      is_customer                 bigint NOT NULL,
      side_state                  text COLLATE "C",
      side_reason                 text,
      side_rule                   text,
      side_since                  bigint,
      fit                         double precision NOT NULL,
      engagement                  double precision NOT NULL,
      total                       double precision NOT NULL,
      grade                       text COLLATE "C" NOT NULL,
      quadrant                    text COLLATE "C" NOT NULL,
      next_action                 text NOT NULL,
      owner                       text COLLATE "C",
      business_unit               text COLLATE "C" NOT NULL,
      account_id                  text COLLATE "C",
      source                      text COLLATE "C",
      channel                     text COLLATE "C",
      campaign                    text COLLATE "C",
      profile                     text NOT NULL,
      first_touch_at              bigint,
      last_touch_at               bigint NOT NULL,
      last_sales_touch_at         bigint,
      touchpoints                 bigint NOT NULL,
      sla_started_at              bigint,
      sla_first_touch_due_at      bigint,
      sla_first_touch_at          bigint,
      sla_first_touch_minutes     double precision,
      sla_first_touch_status      text,
      sla_attempts                bigint,
      sla_attempts_required       bigint,
      sla_attempts_window_ends_at bigint,
      sla_attempts_status         text,
      sla_breached                bigint,
      changed_at                  bigint NOT NULL
    );
    CREATE INDEX leads_recent ON ${o.leads} (kind, last_touch_at DESC, subject);
    CREATE INDEX leads_owner ON ${o.leads} (owner) WHERE owner IS NOT NULL;
    CREATE INDEX leads_changed ON ${o.leads} (changed_at, subject);

    CREATE TABLE ${o.transitions} (
      subject        text COLLATE "C" NOT NULL,
      to_stage       text COLLATE "C" NOT NULL,
      from_stage     text COLLATE "C",
      at             bigint NOT NULL,
      skipped        bigint NOT NULL,
      rule           text NOT NULL,
      event_id       text NOT NULL,
      config_version text NOT NULL,
      PRIMARY KEY (subject, to_stage)
    );

    CREATE TABLE ${o.links} (
      anonymous_id text COLLATE "C" PRIMARY KEY,
      lead_id      text COLLATE "C" NOT NULL,
      event_id     text NOT NULL
    );
    CREATE INDEX identity_links_lead ON ${o.links} (lead_id);

    CREATE TABLE ${o.counters} (
      day           text COLLATE "C" NOT NULL,
      business_unit text COLLATE "C" NOT NULL,
      source        text COLLATE "C" NOT NULL,
      from_stage    text COLLATE "C" NOT NULL,
      to_stage      text COLLATE "C" NOT NULL,
      leads         bigint NOT NULL,
      skipped       bigint NOT NULL,
      velocity_ms   bigint NOT NULL,
      PRIMARY KEY (day, business_unit, source, from_stage, to_stage)
    );

    CREATE TABLE ${o.changes} (
      seq     bigint PRIMARY KEY,
      type    text NOT NULL,
      subject text NOT NULL,
      payload text NOT NULL
    );

    CREATE TABLE ${o.parked} (
      follower  text COLLATE "C" NOT NULL,
      position  bigint NOT NULL,
      event_id  text NOT NULL,
      type      text NOT NULL,
      reason    text NOT NULL,
      parked_at text NOT NULL,
      PRIMARY KEY (follower, position)
    );

    CREATE TABLE ${o.replicaParked} (
      position  bigint NOT NULL,
      subject   text COLLATE "C" NOT NULL,
      reason    text NOT NULL,
      parked_at text NOT NULL,
      PRIMARY KEY (position, subject)
    );`,
];

/**
 * Creates the schema and brings it to the last migration (`read_models_schema`
 * holds the version), inside the caller's transaction under an advisory lock,
 * so the projector and API replicas opening at once apply each migration
 * exactly once; a role that may only read can open a current copy.
 */
export const migrate = (client: ClientBase, o: ReadModelObjects): Promise<void> =>
  migrateSchema(client, { schema: o.schema, versionTable: o.version, lock: o.migrateLock, what: 'read-model schema', migrations: MIGRATIONS.map((m) => m(o)) });

/** bigint (int8) as a JS number: positions, epoch ms and counts stay below 2^53, as they do in the projector's SQLite file. */
const asNumber = (text: string) => Number(text);
const INT8_OID = 20;

/** A pool for the copy: int8 read as numbers, so rows have the projector's row types. */
export function openPool(connectionString: string, applicationName: string): pg.Pool {
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID && format !== 'binary' ? asNumber : pg.types.getTypeParser(oid, format ?? 'text'))) as NonNullable<PoolConfig['types']>['getTypeParser'],
  };
  return new pg.Pool({ connectionString, application_name: applicationName, types });
}
