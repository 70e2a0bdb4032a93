import { post } from '../api.js';
import { empty, field, h, num, show, table } from '../dom.js';
import { formatCount, formatPercent } from '../format.js';
import { dateRange, isMonth } from '../time.js';
import { reloader } from '../view.js';
import type { View } from '../view.js';

interface RuleSetOutcome {
  configVersion: string;
  actors: number;
  stages: Array<{ stage: string; reached: number; current: number; conversionFromPrevious: number | null }>;
}

/** POST /v1/whatif's answer: what `whatIf` of @sluice/projector returns. */
interface WhatIfResult {
  events: number;
  seconds: number;
  live: RuleSetOutcome;
  candidate: RuleSetOutcome;
  differences: { count: number; actors: Array<{ kind: string; id: string; live: string | null; candidate: string | null }> };
}

const SHOWN_DIFFERENCES = 50;

/** Pick a candidate rule file; the server replays the log under it beside the live rules and the two sides are set next to each other. */
export const whatIfView: View = async (root, ctx) => {
  const body = h('section', { class: 'results' });
  const file = h('input', { type: 'file', name: 'candidate', accept: 'application/json,.json', required: true });
  const from = h('input', { type: 'month', name: 'windowFrom' });
  const to = h('input', { type: 'month', name: 'windowTo' });
  const form = h(
    'form',
    { class: 'filters' },
    field('Candidate rules (JSON)', file),
    field('Leads first seen from', from),
    field('to', to),
    h('button', { type: 'submit' }, 'Compare'),
  );

  const compare = reloader(ctx, body, 'the comparison (the log is replayed under both rule sets)', async () => {
    const picked = file.files?.[0];
    if (!picked) return empty('No candidate picked yet.');
    let candidate: unknown;
    try {
      candidate = JSON.parse(await picked.text());
    } catch (err) {
      throw new Error(`${picked.name} is not JSON: ${(err as Error).message}`);
    }
    const window = isMonth(from.value) && isMonth(to.value) ? { window: dateRange({ from: from.value, to: to.value }, ctx.rules.timeZone) } : {};
    const result = await post<WhatIfResult>('/v1/whatif', { candidate, ...window }, ctx.signal);
    return [sideBySide(result), differences(result)];
  });

  function sideBySide(r: WhatIfResult) {
    const stages = [...new Set([...r.live.stages, ...r.candidate.stages].map((s) => s.stage))];
    const [a, b] = [r.live.configVersion, r.candidate.configVersion];
    const rows = stages.map((stage) => {
      const live = r.live.stages.find((s) => s.stage === stage);
      const cand = r.candidate.stages.find((s) => s.stage === stage);
      const change = (cand?.reached ?? 0) - (live?.reached ?? 0);
      return h(
        'tr',
        { 'data-stage': stage },
        h('th', { scope: 'row' }, stage),
        num('liveReached', live?.reached ?? 0, formatCount(live?.reached ?? 0)),
        num('candidateReached', cand?.reached ?? 0, formatCount(cand?.reached ?? 0)),
        num('change', change, `${change > 0 ? '+' : ''}${formatCount(change)}`, { class: `num ${change > 0 ? 'up' : change < 0 ? 'down' : ''}` }),
        num('liveConversion', live?.conversionFromPrevious ?? null, formatPercent(live?.conversionFromPrevious)),
        num('candidateConversion', cand?.conversionFromPrevious ?? null, formatPercent(cand?.conversionFromPrevious)),
      );
    });
    return h(
      'div',
      {},
      h('p', { class: 'subtitle' }, `${formatCount(r.events)} events replayed in ${r.seconds.toFixed(1)} s under ${a} (live) and ${b} (candidate); nothing live changed.`),
      table(['stage', `reached (${a})`, `reached (${b})`, 'change', `conversion (${a})`, `conversion (${b})`], rows, { 'data-testid': 'whatif-table' }),
    );
  }

  function differences(r: WhatIfResult) {
    const shown = r.differences.actors.slice(0, SHOWN_DIFFERENCES);
    return h(
      'div',
      {},
      h('h2', { 'data-field': 'differences', 'data-value': r.differences.count }, `${formatCount(r.differences.count)} lead(s) would be in a different stage`),
      shown.length === 0
        ? null
        : table(
            ['lead', r.live.configVersion, r.candidate.configVersion],
            shown.map((d) => h('tr', { 'data-lead': d.id }, h('th', { scope: 'row' }, d.kind === 'lead' ? h('a', { href: `#/leads/${encodeURIComponent(d.id)}` }, d.id) : `anonymous ${d.id}`), h('td', {}, d.live ?? '–'), h('td', {}, d.candidate ?? '–'))),
          ),
    );
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void compare();
  });
  file.addEventListener('change', () => void compare());
  show(root, h('h1', {}, 'What-if'), h('p', { class: 'subtitle' }, `Pick a candidate rule file (a configuration's rules, as for sluice whatif). The live rules are ${ctx.rules.configVersion}.`), form, body);
  await compare();
};
