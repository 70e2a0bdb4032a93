import { chart } from '../charts.js';
import { empty, h, num, show, table } from '../dom.js';
import { filterBar, filterState, SEGMENTS, unitNoun } from '../filters.js';
import { formatCount, formatDuration, formatPercent } from '../format.js';
import { conversion, funnelPairs, stageCounts } from '../queries.js';
import type { ConversionResult } from '../queries.js';
import type { MonthRange } from '../time.js';
import { reloader } from '../view.js';
import type { View } from '../view.js';

const label = (r: MonthRange) => (r.from === r.to ? r.from : `${r.from} – ${r.to}`);
const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/**
 * The stage funnel of a cohort: the leads (or accounts) who entered the first
 * stage in the range, how many of them reached each later stage (step and
 * overall conversion), and the median time from entering a stage to the next
 * (over everyone who entered that stage in the range). Optionally beside a
 * second range, and broken down by a segment.
 */
export const funnelView: View = async (root, ctx) => {
  const { stages } = ctx.rules;
  const body = h('section', { class: 'results' });
  const load = reloader(ctx, body, 'the funnel', async () => {
    const s = filterState(ctx.rules);
    const base = { range: s.range, filters: s.filters, unit: s.unit };
    const noun = unitNoun(s.unit);
    const [cohort, compared, breakdown] = await Promise.all([
      conversion(ctx.rules, { ...base, pairs: funnelPairs(stages) }, ctx.signal),
      s.compare ? conversion(ctx.rules, { ...base, range: s.compare, pairs: 'from_first' }, ctx.signal) : undefined,
      s.segment ? conversion(ctx.rules, { ...base, pairs: 'from_first', segment: s.segment }, ctx.signal) : undefined,
    ]);
    const counts = stageCounts(stages, cohort);
    if (counts === undefined) return empty(`No one entered ${stages[0]} in ${label(s.range)} with these filters.`);
    // a comparison range before the data begins reads as zeros, not as no comparison
    const other = compared && (stageCounts(stages, compared) ?? stages.map(() => 0));
    return [
      h('p', { class: 'subtitle', 'data-testid': 'funnel-caption' }, `${capitalized(noun)} entering ${stages[0]} in ${label(s.range)}, and how many of them reached each later stage.`),
      funnelChart(counts, other, s.range, s.compare, noun),
      funnelTable(counts, cohort, other, noun),
      breakdown ? breakdownTable(breakdown, s.segment, noun) : null,
    ];
  });

  function funnelChart(counts: number[], other: number[] | undefined, range: MonthRange, compare: MonthRange | null, noun: string) {
    // a log axis: visitors outnumber customers by orders of magnitude, and every stage should show
    const series = [{ name: label(range), type: 'bar', data: counts.map((c) => (c > 0 ? c : null)), label: { show: true, position: 'right' } }];
    if (other && compare) series.push({ name: label(compare), type: 'bar', data: other.map((c) => (c > 0 ? c : null)), label: { show: true, position: 'right' } });
    return chart(
      {
        tooltip: { trigger: 'axis' },
        legend: { show: series.length > 1, top: 0 },
        grid: { left: 90, right: 60, top: series.length > 1 ? 30 : 10, bottom: 30 },
        xAxis: { type: 'log', min: 1, name: `${noun} (log scale)`, nameLocation: 'middle', nameGap: 24 },
        yAxis: { type: 'category', data: stages, inverse: true },
        series,
      },
      Math.max(200, stages.length * (series.length > 1 ? 60 : 44)),
      'stage funnel',
    );
  }

  function funnelTable(counts: number[], steps: ConversionResult, other: number[] | undefined, noun: string) {
    const first = counts[0]!;
    const otherFirst = other?.[0] ?? 0;
    const rows = stages.map((stage, i) => {
      const step = i === 0 ? null : counts[i - 1]! > 0 ? counts[i]! / counts[i - 1]! : null;
      const overall = first > 0 ? counts[i]! / first : null;
      const median = steps.rows.find((r) => r.from === stage && r.to === stages[i + 1] && r.segment === '')?.medianMs ?? null;
      const otherOverall = other && otherFirst > 0 ? other[i]! / otherFirst : null;
      return h(
        'tr',
        { 'data-stage': stage },
        h('th', { scope: 'row' }, stage),
        num('count', counts[i], formatCount(counts[i])),
        num('step', step, i === 0 ? '' : formatPercent(step)),
        num('overall', overall, formatPercent(overall)),
        num('median', median, i === stages.length - 1 ? '' : formatDuration(median)),
        other ? num('compareCount', other[i], formatCount(other[i])) : null,
        other ? num('compareOverall', otherOverall, formatPercent(otherOverall)) : null,
        other ? delta(overall, otherOverall) : null,
      );
    });
    const headers = ['stage', noun, 'step conversion', 'overall', 'median time to next stage', ...(other ? [`${noun} (compared)`, 'overall (compared)', 'change'] : [])];
    return table(headers, rows, { class: 'funnel', 'data-testid': 'funnel-table' });
  }

  function delta(now: number | null, before: number | null) {
    if (now === null || before === null) return num('change', null, '–');
    const points = (now - before) * 100;
    return num('change', points, `${points >= 0 ? '+' : ''}${points.toFixed(1)} pts`, { class: `num ${points >= 0 ? 'up' : 'down'}` });
  }

  function breakdownTable(result: ConversionResult, segment: string, noun: string) {
    const name = SEGMENTS.find(([key]) => key === segment)?.[1] ?? segment;
    const segments = [...new Set(result.rows.map((r) => r.segment))];
    const rows = segments
      .map((value) => ({ value, counts: stageCounts(stages, result, value) ?? [] }))
      .sort((a, b) => (b.counts[0] ?? 0) - (a.counts[0] ?? 0))
      .map(({ value, counts }) =>
        h(
          'tr',
          { 'data-segment': value },
          h('th', { scope: 'row' }, value || '(none)'),
          counts.map((c, i) => num(stages[i]!, c, formatCount(c))),
          num('overall', counts[0] ? counts.at(-1)! / counts[0] : null, formatPercent(counts[0] ? counts.at(-1)! / counts[0] : null)),
        ),
      );
    return h('div', {}, h('h2', {}, `${capitalized(noun)} by ${name.toLowerCase()}`), result.truncated ? h('p', { class: 'note' }, 'Only the largest segments are shown.') : null, table([name, ...stages, 'overall'], rows, { 'data-testid': 'breakdown-table' }));
  }

  show(root, h('h1', {}, 'Funnel'), filterBar(ctx, { compare: true, segment: true, unit: true }, () => void load()), body);
  await load();
};
