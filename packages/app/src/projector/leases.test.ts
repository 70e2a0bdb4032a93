import { afterAll, describe, expect, it } from 'vitest';
import { dropSchema, resolvePostgres, uniqueSchemaName } from '@sluice/testkit';
import { type LeaseTable, holdLease, openLeaseTable } from './leases.js';
import { leadPartition, ownsLeadIn, parsePartitionSlot } from './partitions.js';

const postgres = await resolvePostgres();
const skip = 'skip' in postgres ? postgres.skip : undefined;
if (skip) console.warn(`lease tests skipped: ${skip}`);
afterAll(async () => {
  if ('stop' in postgres) await postgres.stop();
});

describe('partitions', () => {
  it('parses i/N and refuses anything else', () => {
    expect(parsePartitionSlot('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['4/4', '1', 'a/b', '0/0', '-1/3']) expect(() => parsePartitionSlot(bad)).toThrow(/--partitions/);
  });

  it('gives every lead to exactly one slot, and spreads 1,000 leads over all four', () => {
    const slots = [0, 1, 2, 3].map((index) => ownsLeadIn({ index, count: 4 }));
    const sizes = [0, 0, 0, 0];
    for (let i = 0; i < 1000; i++) {
      const owners = slots.filter((owns) => owns(`lead-${i}`));
      expect(owners).toHaveLength(1);
      sizes[leadPartition(`lead-${i}`, 4)]! += 1;
    }
    for (const size of sizes) expect(size).toBeGreaterThan(150);
  });
});

describe.skipIf(skip)('leases in PostgreSQL', () => {
  const url = 'url' in postgres ? postgres.url : '';
  const open = async (schema: string, owner: string) => openLeaseTable({ connectionString: url, schema, owner });

  async function withSchema(body: (schema: string, tables: LeaseTable[]) => Promise<void>) {
    const schema = uniqueSchemaName('leases');
    const tables: LeaseTable[] = [];
    try {
      await body(schema, tables);
    } finally {
      for (const t of tables) await t.close();
      await dropSchema(url, schema);
    }
  }

  it('given a held lease, another owner cannot take it; the holder renews it', () =>
    withSchema(async (schema, tables) => {
      const a = await open(schema, 'a');
      const b = await open(schema, 'b');
      tables.push(a, b);
      const first = await a.acquire('0/2', 60);
      expect(first).toBeInstanceOf(Date);
      expect(await b.acquire('0/2', 60)).toBeUndefined();
      const renewed = await a.acquire('0/2', 60);
      expect(renewed!.getTime()).toBeGreaterThanOrEqual(first!.getTime());
      // the other partition is free
      expect(await b.acquire('1/2', 60)).toBeInstanceOf(Date);
    }));

  it('a released lease goes to the next owner at once', () =>
    withSchema(async (schema, tables) => {
      const a = await open(schema, 'a');
      const b = await open(schema, 'b');
      tables.push(a, b);
      await a.acquire('0/1', 60);
      await a.release('0/1');
      expect(await b.acquire('0/1', 60)).toBeInstanceOf(Date);
      expect(await a.acquire('0/1', 60)).toBeUndefined();
    }));

  it('two instances competing for every partition never hold one at the same time, and a killed holder (no more renewals) is replaced once its lease runs out', () =>
    withSchema(async (schema, tables) => {
      const owners = ['a', 'b'];
      const leaseTables = await Promise.all(owners.map((o) => open(schema, o)));
      tables.push(...leaseTables);
      const partitions = ['0/3', '1/3', '2/3'];
      // every grant, from the expiry the database stored (its now() + the length): two owners' intervals on one partition must not overlap
      const grants: { partition: string; owner: string; from: number; to: number }[] = [];
      for (let round = 0; round < 20; round++) {
        for (const partition of partitions) {
          const results = await Promise.all(leaseTables.map(async (t, i) => ({ owner: owners[i]!, to: await t.acquire(partition, 2) })));
          for (const { owner, to } of results) if (to) grants.push({ partition, owner, from: to.getTime() - 2000, to: to.getTime() });
        }
      }
      for (const partition of partitions) {
        const held = grants.filter((g) => g.partition === partition).sort((x, y) => x.from - y.from);
        expect(held.length).toBeGreaterThanOrEqual(20);
        for (let i = 1; i < held.length; i++) {
          const [prev, next] = [held[i - 1]!, held[i]!];
          if (prev.owner !== next.owner) expect(next.from).toBeGreaterThanOrEqual(prev.to);
        }
      }
      // the holder of 0/3 renews once more and is "killed" (renews no more); the other stands by and is granted it only after that lease ran out
      const holder = grants.filter((g) => g.partition === '0/3').at(-1)!;
      const holderIndex = owners.indexOf(holder.owner);
      const lastExpiry = (await leaseTables[holderIndex]!.acquire('0/3', 3))!.getTime();
      const lost: string[] = [];
      const taken = await holdLease(leaseTables[1 - holderIndex]!, '0/3', 2, { onLost: (reason) => lost.push(reason) });
      expect(taken.firstExpiry.getTime() - 2000).toBeGreaterThanOrEqual(lastExpiry);
      await taken.stop();
      expect(lost).toEqual([]);
    }));
});
