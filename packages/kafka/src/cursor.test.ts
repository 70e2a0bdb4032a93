import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileCursor } from './cursor.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('FileCursor', () => {
  it('given nothing committed, reads 0; after commits, reads the last one, and leaves no temporary file behind', () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-cursor-'));
    const cursor = new FileCursor(join(dir, 'lead-changes.cursor'));
    expect(cursor.read()).toBe(0);
    cursor.commit(41);
    cursor.commit(42);
    expect(new FileCursor(cursor.path).read()).toBe(42);
    expect(readdirSync(dir)).toEqual(['lead-changes.cursor']);
  });

  it('given a file that is not a sequence number, refuses to guess', () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-cursor-'));
    writeFileSync(join(dir, 'c'), 'forty-two\n');
    expect(() => new FileCursor(join(dir, 'c')).read()).toThrow(`${join(dir, 'c')} holds "forty-two", not a sequence number`);
  });
});
