import { dataDirStatus, parkedItems } from '@sluice/app/status';
import type { FollowerStanding, StatusReport } from '@sluice/app/status';
import type { ParkedRecord } from '@sluice/follower';
import type { EventStore } from '@sluice/event-store';
import { CliError, formatCount, formatTable, printJson } from '../output.js';
import type { Settings } from '../settings.js';
import { asCliErrors } from './analytics-engine.js';

/**
 * `sluice status` and `sluice parked`: where each follower stands and what it
 * parked, read from the data directory as it is (the app's status use
 * cases), or asked of a running server.
 */


/** A running server's /readyz: its followers as they run (a 503 is an answer too: it says which follower and why). */
export async function serverStatus(url: string): Promise<StatusReport> {
  // /readyz is open: no key needed
  const res = await fetch(new URL('/readyz', url)).catch((err: unknown) => {
    throw new CliError(`cannot reach ${url}: ${(err as Error).message}`);
  });
  const body = (await res.json().catch(() => ({}))) as { status?: string; headPosition?: number; reasons?: string[]; followers?: FollowerStanding[] };
  if (body.followers === undefined) throw new CliError(`${url} answered ${res.status}${body.status ? `: ${body.status}` : ''}`);
  return { from: url, headPosition: body.headPosition ?? 0, ready: res.ok, ...(body.reasons ? { reasons: body.reasons } : {}), followers: body.followers };
}

export function formatStatus(report: StatusReport): string {
  const verdict = report.ready === undefined ? '' : report.ready ? ': ready' : ': not ready';
  let out = `${report.from}${verdict}; the log's head is position ${formatCount(report.headPosition)}\n\n`;
  out += formatTable(
    ['follower', 'state', 'position', 'head', 'lag', 'parked'],
    report.followers.map((f) => [f.name, f.state.replace('_', ' '), f.position, f.head, f.lag, f.parked]),
  );
  for (const reason of report.reasons ?? []) out += `  ${reason}\n`;
  const parked = report.followers.reduce((sum, f) => sum + f.parked, 0);
  if (parked > 0) out += `\n${formatCount(parked)} item${parked === 1 ? '' : 's'} parked: \`sluice parked\` lists them with the reason\n`;
  return out;
}

export async function showStatus(openStore: () => Promise<EventStore>, settings: Settings, url: string | undefined, json: boolean): Promise<void> {
  let report: StatusReport;
  if (url !== undefined) report = await serverStatus(url);
  else {
    const store = await openStore();
    try {
      report = await asCliErrors(() => dataDirStatus(store, settings));
    } finally {
      await store.close();
    }
  }
  if (json) printJson(report);
  else process.stdout.write(formatStatus(report));
}

export function formatParked(rows: readonly ParkedRecord[], follower?: string): string {
  if (rows.length === 0) return `nothing parked${follower === undefined ? '' : ` by ${follower}`}\n`;
  const table = formatTable(
    ['follower', 'position', 'item', 'type', 'parked at', 'reason'],
    rows.map((r) => [r.follower, r.position, r.itemId, r.itemType, r.parkedAt, r.reason]),
  );
  return `${table}\n${formatCount(rows.length)} parked: each stays out of its follower's store until that store is rebuilt after a fix (\`sluice rebuild\`: the read models and the stage tables)\n`;
}

export async function showParked(settings: Settings, follower: string | undefined, json: boolean): Promise<void> {
  const rows = await asCliErrors(() => parkedItems(settings, follower));
  if (json) printJson(rows);
  else process.stdout.write(formatParked(rows, follower));
}
