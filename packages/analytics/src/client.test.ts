import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { QueryTimeoutError, createAnalyticsClient, settingsClause } from './client.js';
import { appliedSchemaVersions, LATEST_SCHEMA_VERSION, migrate } from './migrations.js';
import { testBackends } from './test-backends.js';

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`analytics client (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
    });
    beforeEach(() => backend.reset(client));
    afterAll(() => backend.close());

    it('migrating again is a no-op', async () => {
      expect(await migrate(client)).toEqual({ applied: [] });
      expect(await migrate(client)).toEqual({ applied: [] });
      expect(await appliedSchemaVersions(client)).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
    });

    it('binds awkward strings as values, never as SQL', async () => {
      const awkward = ["it's", 'back\\slash', 'tab\there', 'new\nline', "'); DROP TABLE touchpoints; --", '{x:String}', 'ünïcødé ✓', ''];
      const rows = await client.rows<{ v: string; n: number | string }>('SELECT {v:String} AS v, length({vs:Array(String)}) AS n', { v: awkward.join('|'), vs: awkward });
      expect(rows.map((r) => ({ v: r.v, n: Number(r.n) }))).toEqual([{ v: awkward.join('|'), n: awkward.length }]);
      await client.insert('touchpoints', awkward.map((campaign, i) => ({ position: i + 1, event_id: `e${i}`, type: 'visit', lead_id: `L${i}`, occurred_at: '2026-03-01 10:00:00.000', campaign, props: {} })));
      for (const campaign of awkward) {
        const hit = await client.rows<{ event_id: string }>('SELECT event_id FROM touchpoints FINAL WHERE campaign = {c:String}', { c: campaign });
        expect(hit).toEqual([{ event_id: `e${awkward.indexOf(campaign)}` }]);
      }
    });

    it('keeps milliseconds and UTC: epoch milliseconds in, DateTime64(3) out', async () => {
      const ms = Date.UTC(2026, 2, 1, 23, 59, 59, 987);
      const rows = await client.rows<{ t: string; back: number | string }>(
        "SELECT fromUnixTimestamp64Milli({ms:Int64}, 'UTC') AS t, toUnixTimestamp64Milli(fromUnixTimestamp64Milli({ms:Int64}, 'UTC')) AS back",
        { ms },
      );
      expect(rows.map((r) => ({ t: r.t, back: Number(r.back) }))).toEqual([{ t: '2026-03-01 23:59:59.987', back: ms }]);
    });

    it('stops a query at its max_execution_time and leaves no setting behind', async () => {
      // a typed error, so an API answers 504 with what to change rather than a bare 500
      const timedOut = client.rows(`SELECT sum(cityHash64(number)) FROM numbers(1000000000000) ${settingsClause({ max_execution_time: 1 })}`);
      await expect(timedOut).rejects.toBeInstanceOf(QueryTimeoutError);
      await expect(timedOut).rejects.toThrow(/took longer than its timeout \(Timeout exceeded: elapsed [\d.]+ ms, maximum: 1000 ms/);
      const rows = await client.rows<{ v: number | string }>("SELECT getSetting('max_execution_time') AS v");
      expect(Number(rows[0]!.v)).toBe(0);
    });

    it("rejects a query still running when its request's timeout runs out, whatever the query's own max_execution_time", async () => {
      // three seconds of sleep, one block per second; the engine would let it run for 30
      const slow = client.withTimeout(1).rows(`SELECT sum(sleepEachRow(1)) AS z FROM numbers(3) ${settingsClause({ max_execution_time: 30 })}, max_block_size = 1`);
      await expect(slow).rejects.toBeInstanceOf(QueryTimeoutError);
      await expect(slow).rejects.toThrow("took longer than its timeout (the request's 1 s ran out: its queries together, waiting their turn included)");
    });
  });
}

describe('settingsClause', () => {
  it('takes whitelisted settings with integer values only', () => {
    expect(settingsClause({ max_execution_time: 30, max_result_rows: 10 })).toBe('SETTINGS max_execution_time = 30, max_result_rows = 10');
    expect(settingsClause({})).toBe('');
    expect(() => settingsClause({ max_execution_time: 1.5 })).toThrow(/non-negative integer/);
    expect(() => settingsClause({ max_execution_time: Number.NaN })).toThrow(/non-negative integer/);
  });
});

describe('createAnalyticsClient', () => {
  it('needs a url or a data directory', () => {
    expect(() => createAnalyticsClient({})).toThrow(/url or a data directory/);
  });

  it('refuses a second chDB data directory in the same process, naming both', async () => {
    const [chdb] = testBackends();
    const open = await chdb!.open();
    expect(open.backend).toBe('chdb');
    expect(() => createAnalyticsClient({ dataPath: '/tmp/some-other-sluice-dir' })).toThrow(/already open at .* cannot be opened too/);
    await chdb!.close();
  });
});
