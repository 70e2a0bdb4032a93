import type { Pool, PoolClient } from 'pg';

/**
 * Runs `work` in a transaction on a pooled connection: COMMIT when it resolves,
 * ROLLBACK when it throws (the error is rethrown as is). A connection whose
 * ROLLBACK fails is in an unknown state and is destroyed, not returned to the
 * pool. When COMMIT itself fails on a lost connection the outcome is unknown to
 * the caller; appends are idempotent by event id, so retrying is safe.
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw err;
  } finally {
    client.release(broken);
  }
}
