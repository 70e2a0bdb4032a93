import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A sequence number kept in a file, written so that a crash leaves either the
 * old or the new value: a temporary file, fsynced, renamed over the old one,
 * and the directory fsynced so the rename itself survives.
 */
export class FileCursor {
  constructor(readonly path: string) {}

  /** 0 when nothing was ever committed */
  read(): number {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    const seq = Number(text.trim());
    if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`${this.path} holds "${text.trim().slice(0, 40)}", not a sequence number`);
    return seq;
  }

  commit(seq: number): void {
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, `${seq}\n`);
    fsyncPath(temporary, 'r+');
    renameSync(temporary, this.path);
    fsyncPath(dirname(this.path), 'r');
  }
}

function fsyncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
