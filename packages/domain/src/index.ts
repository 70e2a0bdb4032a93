export * from './identity.js';
export * from './time.js';
export type { Profile } from './match.js';
export { type CompiledRules, type Rules, compileRules } from './rules.js';
export {
  type Attribution,
  type DomainEvent,
  type TouchpointEnvelope,
  type LeadState,
  type SideEpisode,
  type SideStateKind,
  type StageEntry,
  type Subject,
  type Touchpoint,
  absorbAnonymousHistory,
  evolve,
  foldLead,
  initialLeadState,
  touchpointsOf,
} from './lead.js';
export * from './snapshot.js';
export type * from './stage-state.js';
export * from './owners.js';
export * from './reference/index.js';
export * from './calendar-periods.js';
