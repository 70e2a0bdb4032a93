import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { writeCompressedTwins } from '../precompress.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('compressed twins of the build', () => {
  it('given a build, then each script and style of some size gets .br and .gz twins that decompress to it; small files and images do not', () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-build-'));
    mkdirSync(join(dir, 'assets'));
    const script = `export const labels = ${JSON.stringify(Array.from({ length: 300 }, (_, i) => `stage ${i}`))};`;
    const style = '.cell { color: #123456; }\n'.repeat(100);
    writeFileSync(join(dir, 'assets', 'index-abc.js'), script);
    writeFileSync(join(dir, 'assets', 'index-abc.css'), style);
    writeFileSync(join(dir, 'assets', 'logo-abc.png'), Buffer.alloc(4096, 7));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Sluice</title>');

    const twins = writeCompressedTwins(dir);

    expect(twins.map((t) => t.file)).toEqual(['assets/index-abc.css', 'assets/index-abc.js']);
    expect(readdirSync(join(dir, 'assets')).sort()).toEqual(['index-abc.css', 'index-abc.css.br', 'index-abc.css.gz', 'index-abc.js', 'index-abc.js.br', 'index-abc.js.gz', 'logo-abc.png']);
    expect(readdirSync(dir).sort()).toEqual(['assets', 'index.html']);
    for (const [file, content] of [['assets/index-abc.js', script], ['assets/index-abc.css', style]] as const) {
      expect(brotliDecompressSync(readFileSync(join(dir, `${file}.br`))).toString()).toBe(content);
      expect(gunzipSync(readFileSync(join(dir, `${file}.gz`))).toString()).toBe(content);
    }
    for (const t of twins) expect([t.brotliBytes < t.bytes, t.gzipBytes < t.bytes]).toEqual([true, true]);
  });
});
