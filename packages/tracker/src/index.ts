import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChannelRule } from './channels.js';

export * from './channels.js';

/** What the served script is told: capture.tracker, the channel rules and the types a site key may write. */
export interface ServedSettings {
  consentRequired: boolean;
  honorDoNotTrack: boolean;
  leadIdField: string;
  hashLeadId: boolean;
  sessionMinutes: number;
  fileExtensions: readonly string[];
  flushMs: number;
  channels: readonly ChannelRule[];
  types: readonly string[];
}

const BUNDLE = join(dirname(fileURLToPath(import.meta.url)), '..', 'prebuilt', 'sluice.js');

/**
 * The browser script with its settings in place (the bundle names them as the
 * free identifier SLUICE_SETTINGS). Read once per process: the file is built
 * ahead (`pnpm --filter @sluice/tracker build`), so serving needs no bundler.
 */
export function trackerScript(settings: ServedSettings): string {
  const bundle = readFileSync(BUNDLE, 'utf8');
  if (!bundle.includes('SLUICE_SETTINGS')) throw new Error(`${BUNDLE} does not read SLUICE_SETTINGS: rebuild it`);
  return bundle.replaceAll('SLUICE_SETTINGS', JSON.stringify(settings));
}
