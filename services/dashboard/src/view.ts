import { errorBox, loading, show } from './dom.js';
import type { LiveRules } from './rules.js';

export interface ViewContext {
  rules: LiveRules;
  /** aborted when the person leaves the view: fetches and the change stream stop */
  signal: AbortSignal;
  /** what follows the view's name in the hash (#/leads/<id>) */
  params: string[];
  /** the view shows its numbers: marks the page ready (data-state) and times the first view */
  ready(): void;
  /** the view is asking again (a filter changed): data-state goes back to loading until ready() */
  busy(): void;
  /** resolves at the first ready(): secondary asks (filter menus) wait for it so the first numbers come first */
  shown: Promise<void>;
}

export type View = (root: HTMLElement, ctx: ViewContext) => Promise<void>;

type Content = Node | string | null;

/**
 * A region of a view that is asked again whenever its inputs change: it shows
 * loading, then what `produce` made of the answer, or the error. A newer ask
 * wins over an older one still in flight, whose answer is dropped.
 */
export function reloader(ctx: ViewContext, region: HTMLElement, what: string, produce: () => Promise<Content | Content[]>): () => Promise<void> {
  let generation = 0;
  return async () => {
    const mine = ++generation;
    ctx.busy();
    show(region, loading(what));
    try {
      const content = await produce();
      if (mine !== generation) return;
      show(region, content);
      ctx.ready();
    } catch (err) {
      if (mine === generation && !ctx.signal.aborted) show(region, errorBox(err));
    }
  };
}
