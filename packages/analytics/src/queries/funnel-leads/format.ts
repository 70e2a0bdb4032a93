import { formatTable } from '../../text.js';
import type { FunnelLeadPage } from '../../funnel.js';

export function formatFunnelLeads(page: FunnelLeadPage): string {
  if (page.leads.length === 0) return 'no lead at this step\n';
  const out = formatTable(
    ['unit', 'lead', 'steps reached', 'breakdown', 'entered'],
    page.leads.map((l) => [l.unitId, l.leadId ?? '-', l.reachedSteps, l.breakdownValue === '' ? '(none)' : l.breakdownValue, l.enteredAt]),
  );
  return page.nextAfter === null ? out : `${out}(more: after=${page.nextAfter})\n`;
}
