import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { importNdjson } from './import.js';

let dir: string;
let store: EventStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-import-'));
  store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const visit = (id: string, source = 'google') => JSON.stringify({ id, type: 'visit', occurredAt: '2026-03-01T10:00:00+01:00', anonymousId: 'anon-1', source });
const payment = (id: string, amount: number) => JSON.stringify({ id, type: 'payment', occurredAt: '2026-03-01T10:00:00+01:00', leadId: 'lead-1', properties: { amount, currency: 'EUR' } });

async function importLines(name: string, lines: string[]) {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return importNdjson(store, { file, batchSize: 2, dryRun: false, maxReportedIssues: 50 });
}

describe('sluice import: same id, different content', () => {
  it('given stored events, when a file reuses their ids with other content or repeats an id with other content, then those batches are not written and their lines are named', async () => {
    await importLines('first.ndjson', [payment('p1', 100), visit('v1')]);
    const head = await store.headPosition();

    const summary = await importLines('second.ndjson', [visit('v2'), payment('p1', 120), visit('v3'), visit('v3', 'linkedin'), visit('v1')]);

    expect(summary).toMatchObject({ events: 5, accepted: 0, duplicates: 1, rejectedEvents: 4, issuesNotListed: 0 });
    expect(summary.rejectedBatches).toEqual([
      { firstLine: 1, lastLine: 2, badLines: 1 },
      { firstLine: 3, lastLine: 4, badLines: 1 },
    ]);
    expect(summary.issues).toEqual([
      { index: 1, line: 2, field: 'id', message: '"p1" is already stored with a different type or data (an exact re-import is skipped; a corrected event needs an id of its own)' },
      { index: 1, line: 4, field: 'id', message: '"v3" is also the id of line 3, with a different type or data' },
    ]);
    expect(await store.headPosition()).toBe(head);
  });
});
