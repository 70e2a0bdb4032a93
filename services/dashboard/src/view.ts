import type { LiveRules } from './rules.js';

export interface ViewContext {
  rules: LiveRules;
  /** aborted when the person leaves the view: fetches and the change stream stop */
  signal: AbortSignal;
  /** what follows the view's name in the hash (#/leads/<id>) */
  params: string[];
  /** the view shows its numbers: marks the page ready (data-state) and times the first view */
  ready(): void;
}

export type View = (root: HTMLElement, ctx: ViewContext) => Promise<void>;
