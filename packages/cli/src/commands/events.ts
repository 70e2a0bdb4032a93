import type { EventStore } from '@sluice/event-store';
import { readLeadHistory } from '@sluice/touchpoint-log';
import type { LeadHistory } from '@sluice/touchpoint-log';
import { CliError, formatTable, printJson } from '../output.js';

/** One line per touchpoint: what a person checks first when a number looks wrong. */
export function formatLeadHistory(history: LeadHistory): string {
  const rows = history.touchpoints.map((t) => [
    t.position,
    t.event.occurredAt,
    t.event.type,
    t.streamId.startsWith('anon-') ? `anonymous ${t.event.anonymousId ?? ''}` : 'lead',
    [t.event.source, t.event.channel, t.event.campaign].filter(Boolean).join(' / '),
    t.event.id,
  ]);
  const linked = history.linkedAnonymousIds.length > 0 ? `linked anonymous ids: ${history.linkedAnonymousIds.join(', ')}\n` : '';
  return (
    `lead ${history.leadId}: ${history.touchpoints.length} touchpoints\n${linked}\n` +
    formatTable(['position', 'occurred at', 'type', 'via', 'source / channel / campaign', 'event id'], rows)
  );
}

export async function showLeadEvents(store: EventStore, leadId: string, json: boolean): Promise<void> {
  const history = await readLeadHistory(store, leadId);
  if (history.touchpoints.length === 0) throw new CliError(`no events for lead "${leadId}"`);
  if (json) printJson(history);
  else process.stdout.write(formatLeadHistory(history));
}
