import { createHash } from 'node:crypto';

/** One instance's share of the leads: partition `index` of `count` (`--partitions i/N`, 0-based). */
export interface PartitionSlot {
  readonly index: number;
  readonly count: number;
}

export class PartitionSpecError extends Error {}

export function parsePartitionSlot(text: string): PartitionSlot {
  const match = /^(\d{1,4})\/(\d{1,4})$/.exec(text.trim());
  if (match === null) throw new PartitionSpecError(`--partitions must be i/N (this instance's partition i of N, from 0), got ${JSON.stringify(text)}`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index >= count) throw new PartitionSpecError(`--partitions ${text}: i must be between 0 and N-1`);
  return { index, count };
}

/** The lease row's key: the layout is part of it, so instances started with different N never share a row by accident. */
export const leaseKey = (slot: PartitionSlot): string => `${slot.index}/${slot.count}`;

/**
 * The partition of a lead: the first 4 bytes of SHA-256 of its id, modulo N.
 * A hash of the id alone (not of a position or an instance) so every instance
 * and every restart agrees, and other tools can compute it.
 */
export function leadPartition(leadId: string, count: number): number {
  return createHash('sha256').update(leadId).digest().readUInt32BE(0) % count;
}

export const ownsLeadIn = (slot: PartitionSlot) => (leadId: string) => leadPartition(leadId, slot.count) === slot.index;
