/**
 * How the follower engine tells a failure it should wait out from one an item
 * caused. Transient: the target or the source is away or full (disk full, a
 * server unreachable, a lock held); retrying the same work later succeeds.
 * Anything else that a single item raises is that item's fault: it is parked.
 */

/** A target's apply failed at `index`; the items before it are applied. */
export class ItemFailed extends Error {
  constructor(
    readonly index: number,
    override readonly cause: unknown,
  ) {
    super(messageOf(cause), { cause });
    this.name = 'ItemFailed';
  }
}

/** Retried, never parked: what a target raises when it knows a failure is its own, not the item's. */
export class TransientFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientFailure';
  }
}

const TRANSIENT_CODES = new Set([
  // the file system: full, over quota, read-only, unreadable for now
  'ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE', 'EBUSY', 'EAGAIN',
  // the network
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
  // PostgreSQL: insufficient resources, operator intervention, connection exceptions
  '53000', '53100', '53200', '53300', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '08P01', '40001', '40P01',
]);

const TRANSIENT_SQLITE = /^SQLITE_(FULL|BUSY|LOCKED|IOERR|READONLY|CANTOPEN|NOMEM|PROTOCOL)/;

/** What ClickHouse and the drivers say when the trouble is theirs (no space, no access, no connection, no memory). */
const TRANSIENT_MESSAGE =
  /not enough space|no space left|disk quota|cannot (write|reserve|open|create|allocate)|permission denied|read-only file system|memory limit|connection (refused|reset|closed|terminated|lost)|socket hang up|timed? ?out|too many (simultaneous|parts|connections)|is closed|unavailable|ECONNREFUSED|ENOSPC/i;

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Is this a failure to wait out (retry with backoff) rather than a fault of the item being applied? */
export function isTransient(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof TransientFailure) return true;
    if (e instanceof ItemFailed) return false;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || TRANSIENT_SQLITE.test(code))) return true;
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string' && name.startsWith('KafkaJS')) return true;
    if (e instanceof Error && TRANSIENT_MESSAGE.test(e.message)) return true;
  }
  return false;
}
