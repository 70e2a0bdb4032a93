import pg from 'pg';

/**
 * Partition leases in PostgreSQL: one row per partition naming its owner and
 * when the lease runs out. Taking and renewing are the same single UPDATE,
 * which succeeds only when the lease has run out or is already ours, so two
 * instances never hold one partition at once (PostgreSQL's row lock orders
 * competing UPDATEs; the second sees the first's row). Expiry is judged by the
 * database's clock alone, so the instances' clocks do not matter.
 */
export interface LeaseTable {
  /** takes or renews the partition's lease for `seconds`; the database time it now runs to, or undefined when another owner holds it */
  acquire(partition: string, seconds: number): Promise<Date | undefined>;
  /** gives the lease up at once (a clean stop), so a standby need not wait for it to run out */
  release(partition: string): Promise<void>;
  close(): Promise<void>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openLeaseTable(options: { connectionString: string; schema: string; owner: string }): Promise<LeaseTable> {
  // the schema name is configuration checked by the same rule as the event store's, never user input; identifiers cannot be bound
  if (!IDENTIFIER.test(options.schema)) throw new Error(`invalid schema name ${JSON.stringify(options.schema)}`);
  const table = `${options.schema}.projector_leases`;
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 2 });
  try {
    // instances starting together would race on IF NOT EXISTS (it is not atomic in the catalog): one at a time
    await pool.query(`BEGIN;
      SELECT pg_advisory_xact_lock(hashtext('${table}'));
      CREATE SCHEMA IF NOT EXISTS ${options.schema};
      CREATE TABLE IF NOT EXISTS ${table} (partition text PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL);
      COMMIT`);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const { owner } = options;
  return {
    async acquire(partition, seconds) {
      // a partition nobody has held yet gets a row that has already run out
      await pool.query(`INSERT INTO ${table} (partition, owner, expires_at) VALUES ($1, '', '-infinity') ON CONFLICT (partition) DO NOTHING`, [partition]);
      const result = await pool.query<{ expires_at: Date }>(
        `UPDATE ${table} SET owner = $2, expires_at = now() + make_interval(secs => $3)
          WHERE partition = $1 AND (expires_at < now() OR owner = $2) RETURNING expires_at`,
        [partition, owner, seconds],
      );
      return result.rows[0]?.expires_at;
    },
    async release(partition) {
      await pool.query(`UPDATE ${table} SET expires_at = '-infinity' WHERE partition = $1 AND owner = $2`, [partition, owner]);
    },
    close: () => pool.end(),
  };
}

/**
 * Holds one partition's lease for as long as the process runs: waits until it
 * is free (a standby), then renews it every third of its length. Losing it
 * (a renewal found another owner, or the database stayed unreachable until
 * the lease ran out) calls `onLost`: the caller must stop processing at once.
 */
export interface HeldLease {
  /** the database time the first grant ran to: it was granted at this minus the lease's length */
  readonly firstExpiry: Date;
  stop(): Promise<void>;
}

export async function holdLease(
  leases: LeaseTable,
  partition: string,
  seconds: number,
  handlers: { onWaiting?: () => void; onLost: (reason: string) => void },
): Promise<HeldLease> {
  const period = (seconds * 1000) / 3;
  let asked = Date.now();
  let expiresAt = await leases.acquire(partition, seconds);
  if (expiresAt === undefined) handlers.onWaiting?.();
  while (expiresAt === undefined) {
    await sleep(period);
    asked = Date.now();
    expiresAt = await leases.acquire(partition, seconds);
  }
  let stopped = false;
  let heldUntil = asked + seconds * 1000;
  const renew = async () => {
    // asked before the database's now(), so this never runs later than the lease it stored
    const askedAt = Date.now();
    try {
      const renewed = await leases.acquire(partition, seconds);
      if (stopped) return;
      if (renewed === undefined) return lose(`another instance holds partition ${partition}`);
      heldUntil = askedAt + seconds * 1000;
    } catch (err) {
      // an unreachable database is survivable until the lease could have run out
      if (!stopped && Date.now() >= heldUntil - period) lose(`partition ${partition}'s lease could not be renewed: ${(err as Error).message}`);
    }
  };
  const lose = (reason: string) => {
    stopped = true;
    clearInterval(timer);
    handlers.onLost(reason);
  };
  const timer = setInterval(() => void renew(), period);
  return {
    firstExpiry: expiresAt,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await leases.release(partition);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
