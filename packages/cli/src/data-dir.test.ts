import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openProjectionStore } from '@sluice/projector';
import { runSluice } from './test-support.js';
import type { CliRun } from './test-support.js';

/**
 * What the CLI refuses before it does anything: a data directory or a data
 * file it cannot use, a port in use. Each refusal names what is wrong and
 * what to do, exits non-zero, prints no stack and leaves the files as they
 * were.
 */

let dir: string;
let data: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-data-dir-'));
  data = join(dir, 'data');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sluice = (...args: string[]) => runSluice([...args, '--data-dir', data]);
const plan = ['plan', '--revenue', '1200000', '--deal-size', '24000', '--period', '2026-Q4', '--as-of', '2026-07-01T00:00:00Z'];

/** A refusal: exit 1, one `sluice:` line saying `message`, no stack trace. */
function expectRefused(r: CliRun, ...message: string[]): void {
  expect(r.code, r.stderr).toBe(1);
  for (const part of message) expect(r.stderr).toContain(part);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain('unexpected error');
}

/** A data directory holding `events` imported visits and, when asked, their read models. */
function realDataDir(events: number, withReadModels = false): void {
  const file = join(dir, 'visits.ndjson');
  const visit = (i: number) => JSON.stringify({ id: `v${i}`, type: 'visit', occurredAt: '2026-03-01T10:00:00Z', anonymousId: `anon-${i}`, source: 'google' });
  writeFileSync(file, Array.from({ length: events }, (_, i) => visit(i)).join('\n'));
  expect(sluice('import', file).code).toBe(0);
  if (withReadModels) expect(sluice('rebuild').code).toBe(0);
}

/** PRAGMA user_version is the big-endian 32-bit integer at byte 60 of a SQLite file's header: what a newer Sluice's migration leaves there. */
function setSchemaVersion(file: string, version: number): void {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(version);
  const fd = openSync(file, 'r+');
  writeSync(fd, bytes, 0, 4, 60);
  closeSync(fd);
}

const cutInHalf = (file: string) => truncateSync(file, Math.floor(statSync(file).size / 2));

describe('an event store file Sluice cannot use', () => {
  it('given a text file named events.sqlite, then it is refused as not an event store and left as it was', () => {
    mkdirSync(data);
    const events = join(data, 'events.sqlite');
    writeFileSync(events, 'visit,2026-03-01\n');
    expectRefused(sluice('events', 'lead-1'), `${events} is not a Sluice event store (file is not a database): move it away`, 'or point --data-dir elsewhere');
    expect(readFileSync(events, 'utf8')).toBe('visit,2026-03-01\n');
    expect(readdirSync(data)).toEqual(['events.sqlite']);
  });

  it('given events.sqlite cut in half, then it is refused as damaged', () => {
    realDataDir(3000);
    const events = join(data, 'events.sqlite');
    cutInHalf(events);
    expectRefused(sluice('events', 'lead-1'), `${events} is damaged or cut short (database disk image is malformed): move it away`);
  });

  it("given another program's SQLite database as events.sqlite, then it is refused and nothing is added to it", () => {
    mkdirSync(data);
    const events = join(data, 'events.sqlite');
    // the read models' file put where the log belongs: a SQLite database, not an event store
    openProjectionStore(events).close();
    const before = readFileSync(events);
    expectRefused(sluice('events', 'lead-1'), `${events} is a SQLite database but not a Sluice event store (it has tables `, 'and no events): move it away');
    expect(readFileSync(events).equals(before)).toBe(true);
  });

  it('given events.sqlite written by a newer Sluice, then it is refused naming both schema versions', () => {
    realDataDir(10);
    const events = join(data, 'events.sqlite');
    setSchemaVersion(events, 7);
    expectRefused(sluice('events', 'lead-1'), `${events} was written by a newer Sluice: its schema version 7 is newer than this build understands (1); upgrade Sluice`);
  });
});

describe('a read-model file Sluice cannot use', () => {
  it('given projections.sqlite cut in half, then commands that read it point at sluice rebuild, which mends it once the file is gone', () => {
    realDataDir(3000, true);
    const projections = join(data, 'projections.sqlite');
    cutInHalf(projections);
    const refusal = `${projections} is damaged or cut short (database disk image is malformed): the read models are derived from the log, so delete it`;
    expectRefused(sluice(...plan), refusal, 'and run `sluice rebuild`');
    expectRefused(sluice('rebuild'), refusal);
    rmSync(projections);
    expect(sluice('rebuild', '--json').code).toBe(0);
  });

  it('given projections.sqlite written by a newer Sluice, then it is refused, naming the upgrade or a rebuild', () => {
    realDataDir(10, true);
    const projections = join(data, 'projections.sqlite');
    const store = openProjectionStore(projections);
    store.db.pragma('user_version = 9');
    store.close();
    expectRefused(sluice(...plan), `${projections} was written by a newer Sluice: its schema version 9 is newer than this build understands (4); upgrade Sluice, or delete it`, 'sluice rebuild');
  });
});

describe('a data directory Sluice cannot write', () => {
  it('given a data directory path under a regular file (ENOTDIR, as on a mistyped path), then it is refused naming the path', () => {
    writeFileSync(join(dir, 'notes'), 'a file, not a directory\n');
    const nested = join(dir, 'notes', 'data');
    const r = runSluice(['events', 'lead-1', '--data-dir', nested]);
    expectRefused(r, `cannot use ${nested} as the data directory (ENOTDIR`, 'point --data-dir at a directory it can write');
  });

  // root writes anywhere whatever the mode bits say: as root the CLI runs as nobody, who is denied as any user without write permission is
  const asUnprivileged = process.getuid?.() === 0 ? { user: { uid: 65534, gid: 65534 } } : {};

  it('given a data directory this user may read but not write, then it is refused before anything is opened', () => {
    realDataDir(10);
    chmodSync(dir, 0o755);
    chmodSync(data, 0o555);
    const r = runSluice(['events', 'lead-1', '--data-dir', data], asUnprivileged);
    expectRefused(r, `cannot use ${data} as the data directory (EACCES`, 'point --data-dir at a directory it can write');
  });

  it('given an event store file this user may not write in a directory it may, then the file is named', () => {
    realDataDir(10);
    chmodSync(dir, 0o755);
    chmodSync(data, 0o777);
    const events = join(data, 'events.sqlite');
    chmodSync(events, 0o444);
    const r = runSluice(['events', 'lead-1', '--data-dir', data], asUnprivileged);
    expectRefused(r, `cannot open ${events} for writing (EACCES`, 'give it write access there or point --data-dir elsewhere');
  });
});

describe('sluice serve refuses before it listens', () => {
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('given its port in use, then serve --demo fails at once, naming host:port and --port, and writes no demo', () => {
    const r = sluice('serve', '--demo', '--host', '127.0.0.1', '--port', String(port), '--events', '1000', '--start', '2026-01-01', '--months', '2');
    expectRefused(r, `cannot listen on 127.0.0.1:${port}: the port is in use`, 'pick another port with --port');
    // neither the demo's events nor its rules
    expect(existsSync(data)).toBe(false);
  });

  it('given a damaged event store or read-model file, then serve says which file and what to do, and exits', () => {
    mkdirSync(data);
    writeFileSync(join(data, 'events.sqlite'), 'not a database\n');
    expectRefused(sluice('serve', '--host', '127.0.0.1', '--port', '0'), `${join(data, 'events.sqlite')} is not a Sluice event store`);
    rmSync(data, { recursive: true });

    realDataDir(3000, true);
    const projections = join(data, 'projections.sqlite');
    cutInHalf(projections);
    expectRefused(sluice('serve', '--host', '127.0.0.1', '--port', '0'), `${projections} is damaged or cut short`, '`sluice rebuild`');
  });
});
