import { onBehind } from './api.js';
import type { Freshness } from './api.js';
import { errorBox, h, loading, show } from './dom.js';
import { formatCount } from './format.js';
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

/** How long a view showing numbers that are behind the log waits before asking again (the server itself waits a while for them). */
const REASK_BEHIND_MS = 1000;

const catchingUp = (f: Freshness) =>
  h('p', { class: 'note catching-up', role: 'status', 'data-testid': 'catching-up', 'data-position': f.position, 'data-head': f.head }, `catching up: ${formatCount(f.position)} of ${formatCount(f.head)} events`);

/**
 * A region of a view that is asked again whenever its inputs change: it shows
 * loading, then what `produce` made of the answer, or the error. A newer ask
 * wins over an older one still in flight, whose answer is dropped. An answer
 * that was behind the log (freshness.caughtUp false) is shown with "catching
 * up: N of M events", and asked again, quietly, until the numbers are whole.
 */
export function reloader(ctx: ViewContext, region: HTMLElement, what: string, produce: () => Promise<Content | Content[]>): () => Promise<void> {
  let generation = 0;
  const load = async (quiet: boolean): Promise<void> => {
    const mine = ++generation;
    if (!quiet) {
      ctx.busy();
      show(region, loading(what));
    }
    let behind: Freshness | undefined;
    const stopListening = onBehind((freshness, signal) => {
      if (signal === ctx.signal && (behind === undefined || freshness.position < behind.position)) behind = freshness;
    });
    try {
      const content = await produce();
      if (mine !== generation) return;
      show(region, behind ? catchingUp(behind) : null, content);
      ctx.ready();
      if (behind) setTimeout(() => void (mine === generation && !ctx.signal.aborted && load(true)), REASK_BEHIND_MS);
    } catch (err) {
      if (mine === generation && !ctx.signal.aborted) show(region, errorBox(err));
    } finally {
      stopListening();
    }
  };
  return () => load(false);
}
