import type { ConversionBucket, SlaGroupRow, SlaReport } from '@sluice/projector';
import { formatPercent, formatTable } from '../../text.js';

const minutes = (m: number | null) => (m === null ? '-' : m < 120 ? `${m.toFixed(1)} min` : `${(m / 60).toFixed(1)} h`);

function groupTable(title: string, rows: readonly SlaGroupRow[]): string {
  return `${title}\n${formatTable(
    [title === 'by owner' ? 'owner' : 'unit', 'MQLs', 'contacted', 'touch met', 'breached', 'pending', 'attempts met', 'breached', 'median', 'p90'],
    rows.map((g) => [g.key === '' ? '(none)' : g.key, g.leads, g.contacted, g.firstTouch.met, g.firstTouch.breached, g.firstTouch.pending, g.attempts?.met ?? '-', g.attempts?.breached ?? '-', minutes(g.medianMinutes), minutes(g.p90Minutes)]),
  )}`;
}

const bucketTable = (title: string, buckets: readonly ConversionBucket[], next: string) =>
  `${title}\n${formatTable([title.split(' ')[0]!, 'MQLs', `reached ${next}`, 'rate', 'customers'], buckets.map((b) => [b.label, b.leads, b.converted, formatPercent(b.rate), b.customers]))}`;

export function formatSla(r: SlaReport): string {
  const t = r.targets;
  let out = `SLA from ${t.startStage}: first touch within ${t.firstTouchWithinMinutes} min${t.attempts === null ? '' : `, ${t.attempts.atLeast} attempts within ${t.attempts.withinDays} days`}; as of ${r.asOf}\n\n`;
  out += `marketing\n${formatTable(
    ['unit', `${t.startStage} delivered`, 'committed', 'met'],
    r.marketing.map((m) => [m.businessUnit, m.delivered, m.committed === null ? '-' : m.committed.toFixed(1), m.met === null ? 'no commitment' : m.met ? 'yes' : 'no']),
  )}\n`;
  out += `${groupTable('by unit', [...r.sales.byBusinessUnit, r.sales.total])}\n${groupTable('by owner', r.sales.byOwner)}\n`;
  const next = t.nextStage ?? 'next stage';
  out += `${bucketTable('speed to lead (time to first touch)', r.speedToLead, next)}\n`;
  if (r.persistence !== null) out += `${bucketTable('attempts in the window', r.persistence, next)}\n`;
  out += `breaching leads: ${r.breaches.total}${r.breaches.truncated ? ` (the first ${r.breaches.leads.length} listed)` : ''}\n`;
  if (r.breaches.leads.length > 0) {
    out += formatTable(
      ['lead', 'owner', 'unit', 'started', 'first touch', 'attempts', 'breaches'],
      r.breaches.leads.map((b) => [b.leadId, b.owner ?? '-', b.businessUnit, b.startedAt, b.firstTouchAt === null ? 'never' : minutes(b.minutesToFirstTouch), b.attempts === null ? '-' : `${b.attempts}/${b.attemptsRequired}`, b.breaches.join(', ')]),
    );
  }
  return out;
}
