import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BUNDLE_PATH, bundleTracker } from '../scripts/bundle.js';
import { trackerScript } from './index.js';

describe('the prebuilt browser script', () => {
  it('is the bundle of browser/sluice.ts (run `pnpm --filter @sluice/tracker build` after changing it)', async () => {
    expect(readFileSync(BUNDLE_PATH, 'utf8')).toBe(await bundleTracker());
  });
  it('is served with its settings in place, under 8 KB gzipped', () => {
    const served = trackerScript({ consentRequired: true, honorDoNotTrack: false, leadIdField: 'email', hashLeadId: false, sessionMinutes: 30, fileExtensions: ['pdf'], flushMs: 0, channels: [], types: ['visit'] });
    expect(served).not.toContain('SLUICE_SETTINGS');
    expect(served).toContain('"consentRequired":true');
    expect(gzipSync(served).length).toBeLessThan(8 * 1024);
  });
});
