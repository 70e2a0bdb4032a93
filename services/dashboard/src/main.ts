import './style.css';
import { LOGIN_REQUIRED_EVENT, LoginRequired, session } from './api.js';
import { disposeCharts } from './charts.js';
import { errorBox, h, loading, show } from './dom.js';
import { loadLiveRules } from './rules.js';
import type { LiveRules } from './rules.js';
import type { View } from './view.js';
import { closeRatesView } from './views/close-rates.js';
import { cohortsView } from './views/cohorts.js';
import { eventFunnelView } from './views/event-funnel.js';
import { funnelView } from './views/funnel.js';
import { leadsView } from './views/leads.js';
import { pipelineView } from './views/pipeline.js';
import { plannerView } from './views/planner.js';
import { waterfallView } from './views/waterfall.js';
import { whatIfView } from './views/whatif.js';

const VIEWS: ReadonlyArray<{ path: string; title: string; view: View }> = [
  { path: 'funnel', title: 'Funnel', view: funnelView },
  { path: 'event-funnel', title: 'Event funnel', view: eventFunnelView },
  { path: 'cohorts', title: 'Cohorts', view: cohortsView },
  { path: 'leads', title: 'Leads', view: leadsView },
  { path: 'close-rates', title: 'Close rates', view: closeRatesView },
  { path: 'pipeline', title: 'Pipeline', view: pipelineView },
  { path: 'waterfall', title: 'Waterfall', view: waterfallView },
  { path: 'planner', title: 'Planner', view: plannerView },
  { path: 'whatif', title: 'What-if', view: whatIfView },
];

const root = document.querySelector<HTMLElement>('#view')!;
const nav = document.querySelector<HTMLElement>('#nav')!;
const sessionBox = document.querySelector<HTMLElement>('#session')!;
let rules: LiveRules | undefined;
let current: AbortController | undefined;
let firstViewTimed = false;

function route(): { path: string; params: string[] } {
  const [path = 'funnel', ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { path: VIEWS.some((v) => v.path === path) ? path : 'funnel', params };
}

function leaveView(): AbortSignal {
  current?.abort();
  disposeCharts();
  current = new AbortController();
  return current.signal;
}

function renderSession(): void {
  show(sessionBox, session.key() ? h('button', { type: 'button', class: 'link', onclick: () => (session.signOut(), showLogin()) }, 'Sign out') : null);
}

async function render(): Promise<void> {
  const signal = leaveView();
  const { path, params } = route();
  const entry = VIEWS.find((v) => v.path === path)!;
  for (const a of nav.querySelectorAll('a')) a.toggleAttribute('aria-current', a.dataset.view === path);
  document.title = `${entry.title} · Sluice`;
  root.dataset.view = path;
  root.dataset.state = 'loading';
  renderSession();
  let shown = () => {};
  try {
    rules ??= await loadLiveRules(signal);
    show(root);
    await entry.view(root, {
      shown: new Promise<void>((resolve) => (shown = resolve)),
      rules,
      signal,
      params,
      busy: () => {
        if (!signal.aborted) root.dataset.state = 'loading';
      },
      ready: () => {
        if (signal.aborted) return;
        root.dataset.state = 'ready';
        shown();
        if (!firstViewTimed) {
          firstViewTimed = true;
          // navigation start to the first view's numbers on screen: what "usable" means (read by the browser tests)
          performance.mark('sluice:first-view-ready');
        }
      },
    });
  } catch (err) {
    if (err instanceof LoginRequired || signal.aborted) return;
    root.dataset.state = 'error';
    show(root, errorBox(err));
  }
}

function showLogin(message?: string): void {
  leaveView();
  rules = undefined;
  root.dataset.view = 'login';
  root.dataset.state = 'login';
  renderSession();
  const input = h('input', { type: 'password', name: 'key', autocomplete: 'off', required: true, 'aria-label': 'API key', placeholder: 'read key' });
  const status = h('p', { class: 'state error', role: 'alert' }, message ?? '');
  status.hidden = message === undefined;
  const form = h(
    'form',
    { class: 'login card' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'This server requires an API key. A key with the read scope is enough; it is kept for this browser tab only.'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    session.signIn(input.value.trim());
    loadLiveRules()
      .then((loaded) => {
        rules = loaded;
        return render();
      })
      .catch((err: unknown) => showLogin(err instanceof LoginRequired ? 'That key was not accepted.' : (err as Error).message));
  });
  show(root, form);
  input.focus();
}

show(nav, VIEWS.map((v) => h('a', { href: `#/${v.path}`, 'data-view': v.path }, v.title)));
addEventListener(LOGIN_REQUIRED_EVENT, () => showLogin());
addEventListener('hashchange', () => void render());
root.append(loading('the dashboard'));
void render();
