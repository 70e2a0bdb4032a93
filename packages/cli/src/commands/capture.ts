import { CliError, formatCount, formatTable, printJson } from '../output.js';
import type { Settings } from '../settings.js';
import { getQuery } from './analytics-engine.js';

interface RejectedItems {
  total: number;
  kept: number;
  items: Array<{ receivedAt: string; door: string; index: number; messageId?: string; issues: Array<{ field: string; message: string }> }>;
}

/**
 * `sluice rejected --url URL`: what the running server's capture doors (the
 * Segment endpoint, the tracker) answered 200 for but did not store. The
 * server keeps them in memory, so this asks it; a data directory has none.
 */
export async function showRejected(url: string | undefined, settings: Settings, json: boolean): Promise<void> {
  if (url === undefined) throw new CliError('sluice rejected needs --url URL: the running server that turned the items away keeps them (in memory)', 2);
  const answer = await getQuery<RejectedItems>(url, '/v1/capture/rejected', {}, settings);
  if (json) return printJson(answer);
  if (answer.total === 0) return console.log('nothing rejected since the server started');
  console.log(`${formatCount(answer.total)} rejected since the server started; the newest ${formatCount(answer.kept)}:`);
  const rows = answer.items.flatMap((item) => item.issues.map((issue) => [item.receivedAt, item.door, item.messageId ?? `#${item.index}`, issue.field || '(item)', issue.message]));
  console.log(formatTable(['received', 'door', 'message', 'field', 'why'], rows));
}
