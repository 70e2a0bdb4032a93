import { readFileSync } from 'node:fs';
import { rebuildEngine } from '@sluice/app/one-shot';
import { parseRuleConfig } from '@sluice/config';
import { ConfigError } from '@sluice/config';
import type { EventStore } from '@sluice/event-store';
import { whatIf } from '@sluice/projector';
import type { WhatIfResult } from '@sluice/projector';
import type { RuleConfig } from '@sluice/schemas';
import { CliError, formatCount, formatDuration, formatPercent, formatTable, printJson, usageError } from '../output.js';
import { CatchUpProgress, Progress } from '../progress.js';
import { ensureDataDir } from '../settings.js';
import type { Settings } from '../settings.js';
import { asCliErrors } from './analytics-engine.js';

/** `sluice rebuild`: the app's rebuild (every read model from the log, then the stage tables to equal them), with progress and its figures. */
export async function rebuildReadModels(store: EventStore, settings: Settings, json: boolean): Promise<void> {
  ensureDataDir(settings.dataDir);
  const progress = new CatchUpProgress('rebuilding', !json && process.stderr.isTTY === true);
  const started = performance.now();
  let rebuilt;
  try {
    rebuilt = await asCliErrors(() => rebuildEngine(store, settings, progress));
  } finally {
    progress.done(false);
  }
  const { result, contentHash: hash, stageTables } = rebuilt;
  // what the user waited for: the stage tables' writes included, not the replay alone
  const seconds = (performance.now() - started) / 1000;
  const summary = { ...result, configVersion: settings.config.version, contentHash: hash, stageTables: { position: stageTables.to, subjects: stageTables.subjects } };
  if (json) printJson(summary);
  else
    console.log(
      `rebuilt the read models under rules ${settings.config.version}: ${formatCount(result.events)} events to position ${formatCount(result.position)} ` +
        `in ${formatDuration(seconds * 1000)} (${formatCount(Math.round(result.events / Math.max(seconds, 1e-9)))} events/s, the ClickHouse stage tables included; the replay alone ${formatDuration(result.seconds * 1000)}); content hash ${hash}; ` +
        `ClickHouse stage tables: ${formatCount(stageTables.subjects)} subjects written` +
        (result.parked > 0 ? `\n${formatCount(result.parked)} event(s) could not be projected and were parked (\`sluice parked\` lists them with the reason)` : ''),
    );
}

function candidateRules(file: string): RuleConfig {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read candidate rules ${file}: ${(err as Error).message}`);
  }
  try {
    return parseRuleConfig(document, file);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}


export function formatWhatIf(r: WhatIfResult): string {
  const stages = r.live.stages.map((s) => s.stage);
  for (const s of r.candidate.stages) if (!stages.includes(s.stage)) stages.push(s.stage);
  const find = (outcome: WhatIfResult['live'], stage: string) => outcome.stages.find((s) => s.stage === stage);
  let out = `what if the rules were ${r.candidate.configVersion} instead of ${r.live.configVersion}: ${formatCount(r.events)} events replayed to position ${formatCount(r.position)}`;
  out += r.window ? `, actors first seen in [${r.window.from}, ${r.window.to})\n\n` : '\n\n';
  out += formatTable(
    ['stage', `reached (${r.live.configVersion})`, `reached (${r.candidate.configVersion})`, 'change', `conversion (${r.live.configVersion})`, `conversion (${r.candidate.configVersion})`],
    stages.map((stage) => {
      const a = find(r.live, stage);
      const b = find(r.candidate, stage);
      const change = (b?.reached ?? 0) - (a?.reached ?? 0);
      return [stage, a?.reached ?? 0, b?.reached ?? 0, `${change > 0 ? '+' : ''}${formatCount(change)}`, formatPercent(a?.conversionFromPrevious ?? null), formatPercent(b?.conversionFromPrevious ?? null)];
    }),
  );
  out += `\n${formatCount(r.differences.count)} lead(s) would be in a different stage`;
  if (r.differences.actors.length > 0) {
    const shown = r.differences.actors.slice(0, 20);
    out += `; ${shown.length < r.differences.count ? `the first ${shown.length}` : 'they are'}:\n`;
    out += formatTable(['lead', r.live.configVersion, r.candidate.configVersion], shown.map((d) => [`${d.kind === 'anonymous' ? 'anonymous ' : ''}${d.id}`, d.live ?? '-', d.candidate ?? '-']));
  } else out += '\n';
  return out + '\nnothing live was touched.\n';
}

/** Replays the log under candidate rules into scratch models; prints them beside the live rules. */
export async function runWhatIf(
  store: EventStore,
  settings: Settings,
  flags: { config?: string | undefined; candidate?: string | undefined; from?: string | undefined; to?: string | undefined },
  json: boolean,
): Promise<void> {
  if (flags.candidate === undefined) throw usageError('sluice whatif needs --candidate rules.json');
  if ((flags.from === undefined) !== (flags.to === undefined)) throw usageError('give both --from and --to, or neither');
  const candidate = candidateRules(flags.candidate);
  const progress = new Progress('replaying (twice: live and candidate rules)', undefined, 'events', !json && process.stderr.isTTY === true);
  const day = (d: string) => (/^\d{4}-\d{2}-\d{2}$/.test(d) ? `${d}T00:00:00Z` : d);
  const result = await whatIf({
    store,
    live: settings.config,
    candidate,
    ...(flags.from !== undefined && flags.to !== undefined ? { window: { from: day(flags.from), to: day(flags.to) } } : {}),
    onProgress: (p) => progress.update(p.events),
  });
  progress.done();
  if (json) printJson(result);
  else process.stdout.write(formatWhatIf(result));
}
