import type { EventStore } from '@sluice/event-store';
import type { RuleConfig } from '@sluice/schemas';
import { lastChangeSeq, readFollowing } from '../changes.js';
import { liveConversion } from '../queries/conversion.js';
import { getLead, leadTransitions, listLeads } from '../queries/leads.js';
import { heldPipeline, measureFunnel } from '../queries/measured.js';
import { slaReport } from '../queries/sla-report.js';
import { stageStateSource } from '../queries/stage-state.js';
import { parkedInProjections } from '../store/parked.js';
import type { ProjectionStore } from '../store/projection-store.js';
import type { ReadModels } from './port.js';

export interface SqliteReadModelsOptions {
  /** the log, for a lead as of an instant (folded again from its streams) */
  store?: Pick<EventStore, 'readStream'>;
  /** the rules the read models are built under (checked), for a lead as of an instant */
  config?: RuleConfig;
}

/**
 * The read models in the projector's SQLite file, read through the port. The
 * queries run synchronously on the store's connection (SQLite reads block and
 * are fast); the port's promises only carry their answers.
 */
export function sqliteReadModels(projections: ProjectionStore, options: SqliteReadModelsOptions = {}): ReadModels {
  const stages = stageStateSource(projections);
  const leadSource = { projections, ...options };
  return {
    head: async () => stages.head(),
    lead: (leadId, asOf) => getLead(leadSource, leadId, asOf),
    leadTransitions: async (leadId) => leadTransitions(projections, leadId),
    listLeads: async (filter, cursor, limit) => listLeads(projections, filter, cursor, limit),
    liveConversion: async (query) => liveConversion(projections, query),
    slaReport: async (rules, report) => slaReport(projections, rules, report),
    measureFunnel: async (measure) => measureFunnel(projections, measure),
    heldPipeline: async (held) => heldPipeline(projections, held),
    stageChanges: async (request) => stages.read(request),
    changeHead: async () => lastChangeSeq(projections),
    readChanges: async (afterSeq, max) => readFollowing(projections, afterSeq, max),
    parked: async (follower) => parkedInProjections(projections, follower),
  };
}
