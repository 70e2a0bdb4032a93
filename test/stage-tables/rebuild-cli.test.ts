import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAnalyticsClient } from '@sluice/analytics';
import { openProjectionStore } from '@sluice/projector';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../packages/projector/src/test-support.js';
import { clickhouseStageRows, projectorStageRows } from './stage-rows.js';

/*
 * `sluice rebuild` as a user runs it: after it, ClickHouse's stage tables of
 * the rules equal the rebuilt read models, under the first rules and again
 * under a new rule version (whose rows sit beside the old version's).
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
const main = join(repoRoot, 'packages', 'cli', 'src', 'main.ts');

const line = (id: string, extra: Record<string, unknown>) => JSON.stringify({ id, type: 'visit', occurredAt: '2026-03-01T10:00:00+01:00', ...extra });

describe('sluice rebuild and the ClickHouse stage tables', () => {
  it('given imported events, when rebuilt (and rebuilt under a new rule version), then the stage tables of each version equal the read models', async () => {
    const tmp = tempDir('sluice-rebuild-stage-tables-');
    try {
      const dataDir = tmp.path('data');
      const sluice = (...args: string[]) => {
        const r = spawnSync(tsx, [main, ...args, '--data-dir', dataDir], { encoding: 'utf8', env: { ...process.env, SLUICE_API_KEYS: '', SLUICE_CONFIG: '' } });
        if (r.status !== 0) throw new Error(`sluice ${args.join(' ')} exited with ${r.status}:\n${r.stderr}`);
        return r.stdout;
      };
      const file = tmp.path('events.ndjson');
      writeFileSync(
        file,
        [
          line('w1', { anonymousId: 'anon-w1', occurredAt: '2026-03-01T09:00:00Z' }),
          line('w2', { anonymousId: 'anon-w1', leadId: 'lead-w1', type: 'demo_requested', occurredAt: '2026-03-01T09:05:00Z' }),
          line('w3', { leadId: 'lead-w2', type: 'form_submit', occurredAt: '2026-03-02T09:00:00Z', properties: { formId: 'f' } }),
          line('w4', { anonymousId: 'anon-w9', occurredAt: '2026-03-03T09:00:00Z', source: 'bing' }),
        ].join('\n'),
      );
      sluice('import', file);
      type Summary = { position: number; configVersion: string; stageTables: { position: number; subjects: number } };
      const first = JSON.parse(sluice('rebuild', '--json')) as Summary;
      // two leads, the visitor merged into one of them and the unclaimed visitor
      expect(first.stageTables).toEqual({ position: first.position, subjects: 4 });

      const v2 = tmp.path('v2.json');
      writeFileSync(v2, JSON.stringify({ version: 'rules-v2' }));
      const second = JSON.parse(sluice('rebuild', '--json', '--config', v2)) as Summary;
      expect(second.configVersion).toBe('rules-v2');

      const projections = openProjectionStore(join(dataDir, 'projections.sqlite'));
      const client = createAnalyticsClient({ dataPath: dataDir });
      try {
        const v2Rows = await clickhouseStageRows(client, 'rules-v2');
        expect(v2Rows).toEqual(projectorStageRows(projections));
        expect(v2Rows.transitions.map((t) => [t.lead_id, t.stage])).toContainEqual(['anon~anon-w9', 'visitor']);
        expect(v2Rows.transitions.map((t) => t.lead_id)).not.toContain('anon~anon-w1');
        // the first version's rows stay beside them (the same rules under another label: the same rows)
        expect(await clickhouseStageRows(client, first.configVersion)).toEqual(v2Rows);
      } finally {
        await client.close();
        projections.close();
      }
    } finally {
      tmp.remove();
    }
  });
});
