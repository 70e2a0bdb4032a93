import { get } from '../api.js';
import { empty, errorBox, field, h, loading, num, select, show, table } from '../dom.js';
import { formatCount, formatDuration, formatTime } from '../format.js';
import { followStream } from '../sse.js';
import type { StreamState } from '../sse.js';
import type { View, ViewContext } from '../view.js';

interface Sla {
  firstTouch?: { dueAt: string; at: string | null; minutes: number | null; status: string };
  attempts?: { required: number; count: number; windowEndsAt: string; status: string };
  breached: boolean;
}

/** The parts of a lead read model the views show (GET /v1/leads, /v1/leads/:id). */
interface Lead {
  id: string;
  kind: string;
  stage: string | null;
  grade: string;
  scores: { fit: number; engagement: number; total: number };
  owner: string | null;
  businessUnit: string | null;
  quadrant: string;
  nextAction: string | null;
  lastTouchAt: string | null;
  attribution: { source?: string; channel?: string; campaign?: string } | null;
  profile: { name?: string; title?: string; company?: string; email?: string } | null;
  sla: Sla | null;
  scoreBreakdown?: { fit: Array<{ rule: string; points: number }>; engagement: Array<{ rule: string; points: number }> };
}

interface LeadPage {
  items: Lead[];
  nextCursor: string | null;
}

interface LeadDetail {
  lead: Lead;
  transitions: Array<{ from: string | null; to: string; at: string; skipped: boolean; rule: string }>;
  touchpoints: Array<{ position: number; event: { id: string; type: string; occurredAt: string; source?: string; channel?: string; campaign?: string } }>;
}

interface ListFilters {
  grade: string;
  stage: string;
  businessUnit: string;
  slaBreached: boolean;
}

const filters: ListFilters = { grade: 'hot', stage: '', businessUnit: '', slaBreached: false };
const REFRESH_AFTER_CHANGE_MS = 250;
const PAGE = 50;

export const leadsView: View = async (root, ctx) => (ctx.params[0] ? leadDetail(root, ctx, ctx.params[0]) : leadList(root, ctx));

const slaBadge = (sla: Sla | null) => (sla?.breached ? h('span', { class: 'badge breach', 'data-field': 'sla' }, 'SLA breached') : h('span', { class: 'badge', 'data-field': 'sla' }, sla ? 'on time' : '–'));

/**
 * Leads by grade (hot by default), stage, business unit and SLA breach; the
 * list refreshes whenever the change stream says a lead turned hot or moved
 * stage, and leads that arrive that way are marked. When the stream says
 * changes were lost (the view fell further behind than the feed keeps), the
 * list is reloaded at once and the live feed says so: those changes are not
 * listed there.
 */
async function leadList(root: HTMLElement, ctx: ViewContext): Promise<void> {
  const body = h('section', { class: 'results' });
  const liveBadge = h('span', { class: 'live', 'data-live': 'connecting' }, 'connecting…');
  const feed = h('ol', { class: 'feed', 'aria-label': 'recent changes' }, h('li', { class: 'note' }, 'Stage changes and leads turning hot appear here as they happen.'));
  const shown = new Set<string>();
  let cursor: string | null = null;
  let generation = 0;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;

  function query(after: string | null): string {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (filters.grade) params.set('grade', filters.grade);
    if (filters.stage) params.set('stage', filters.stage);
    if (filters.businessUnit) params.set('businessUnit', filters.businessUnit);
    if (filters.slaBreached) params.set('slaBreached', 'true');
    if (after) params.set('cursor', after);
    return `/v1/leads?${params}`;
  }

  function row(lead: Lead, fresh: boolean): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-lead': lead.id, class: [lead.sla?.breached ? 'breached' : '', fresh ? 'fresh' : ''].join(' ').trim() || undefined },
      h('th', { scope: 'row' }, h('a', { href: `#/leads/${encodeURIComponent(lead.id)}` }, lead.profile?.name ?? lead.id), h('small', {}, lead.id)),
      h('td', {}, lead.profile?.company ?? ''),
      h('td', { 'data-field': 'stage' }, lead.stage ?? '–'),
      num('engagement', lead.scores.engagement, lead.scores.engagement.toFixed(0)),
      num('fit', lead.scores.fit, lead.scores.fit.toFixed(0)),
      h('td', {}, h('span', { class: `badge grade-${lead.grade}` }, lead.grade)),
      h('td', {}, lead.owner ?? '–'),
      h('td', {}, slaBadge(lead.sla)),
      h('td', {}, lead.lastTouchAt ? formatTime(lead.lastTouchAt, ctx.rules.timeZone) : '–'),
    );
  }

  async function load(more = false): Promise<void> {
    const mine = ++generation;
    ctx.busy();
    if (!more) show(body, loading('leads'));
    try {
      const page = await get<LeadPage>(query(more ? cursor : null), ctx.signal);
      if (mine !== generation) return;
      cursor = page.nextCursor;
      const firstLoad = shown.size === 0 && !more;
      const rows = page.items.map((lead) => row(lead, !firstLoad && !shown.has(lead.id)));
      for (const lead of page.items) shown.add(lead.id);
      if (more) body.querySelector('tbody')?.append(...rows);
      else if (rows.length === 0) show(body, empty('No leads match these filters.'));
      else show(body, table(['lead', 'company', 'stage', 'engagement', 'fit', 'grade', 'owner', 'SLA', 'last touch'], rows, { class: 'leads', 'data-testid': 'lead-table' }));
      body.querySelector('.more')?.remove();
      if (cursor) body.append(h('button', { type: 'button', class: 'more', onclick: () => void load(true) }, 'More'));
      ctx.ready();
    } catch (err) {
      if (mine === generation && !ctx.signal.aborted) show(body, errorBox(err));
    }
  }

  const gradeMenu = select('grade', [['hot', 'Hot'], ['warm', 'Warm'], ['cold', 'Cold'], ['', 'Any grade']], filters.grade);
  const stageMenu = select('stage', [['', 'Any stage'], ...ctx.rules.stages.map((s) => [s, s] as const)], filters.stage);
  const unitInput = h('input', { type: 'search', name: 'businessUnit', value: filters.businessUnit, placeholder: 'any' });
  const breachedOnly = h('input', { type: 'checkbox', name: 'slaBreached', checked: filters.slaBreached });
  const form = h('form', { class: 'filters' }, field('Grade', gradeMenu), field('Stage', stageMenu), field('Business unit', unitInput), h('label', { class: 'check' }, breachedOnly, ' SLA breached only'), liveBadge);
  form.addEventListener('change', () => {
    Object.assign(filters, { grade: gradeMenu.value, stage: stageMenu.value, businessUnit: unitInput.value.trim(), slaBreached: breachedOnly.checked });
    shown.clear();
    void load();
  });
  form.addEventListener('submit', (event) => event.preventDefault());

  const onState = (state: StreamState) => {
    liveBadge.dataset.live = state;
    liveBadge.textContent = state === 'live' ? 'live' : `${state}…`;
  };
  const addToFeed = (item: HTMLLIElement) => {
    feed.querySelector('.note')?.remove();
    feed.prepend(item);
    while (feed.children.length > 8) feed.lastElementChild?.remove();
  };
  void followStream(
    '/v1/stream',
    (message) => {
      if (message.event === 'changes_lost') {
        addToFeed(h('li', { 'data-event': message.event }, h('em', {}, 'some changes were missed; the list was reloaded')));
        clearTimeout(refreshTimer);
        void load();
        return;
      }
      if (message.event !== 'lead_hot' && message.event !== 'stage_changed') return;
      const change = JSON.parse(message.data) as { leadId: string; to?: string; scores?: { engagement: number } };
      const what = message.event === 'lead_hot' ? `turned hot (engagement ${change.scores?.engagement.toFixed(0) ?? '?'})` : `moved to ${change.to}`;
      addToFeed(h('li', { 'data-event': message.event }, h('a', { href: `#/leads/${encodeURIComponent(change.leadId)}` }, change.leadId), ` ${what}`));
      // changes come in bursts (one import touches many leads): one refresh per burst
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(() => void load(), REFRESH_AFTER_CHANGE_MS);
    },
    onState,
    ctx.signal,
  );
  ctx.signal.addEventListener('abort', () => clearTimeout(refreshTimer));

  show(root, h('h1', {}, 'Leads'), form, h('div', { class: 'split' }, body, h('aside', { class: 'card' }, h('h2', {}, 'Live changes'), feed)));
  await load();
}

function scoreTable(title: string, lines: Array<{ rule: string; points: number }>, total: number) {
  return h(
    'div',
    {},
    h('h3', {}, `${title}: ${total.toFixed(1)}`),
    lines.length === 0
      ? h('p', { class: 'note' }, 'No rule gave points.')
      : table(['rule', 'points'], lines.map((l) => h('tr', { 'data-rule': l.rule }, h('td', {}, h('code', {}, l.rule)), num('points', l.points, l.points.toFixed(2)))), { 'data-testid': `score-${title.toLowerCase()}` }),
  );
}

function slaPanel(sla: Sla | null, zone: string) {
  if (!sla) return h('p', { class: 'note' }, 'No SLA clock runs for this lead.');
  const first = sla.firstTouch;
  const attempts = sla.attempts;
  return h(
    'dl',
    { class: `sla ${sla.breached ? 'breached' : ''}`, 'data-testid': 'sla' },
    h('dt', {}, 'First sales touch'),
    h('dd', { class: first?.status === 'breached' ? 'breach' : undefined }, first ? `${first.status}: due ${formatTime(first.dueAt, zone)}, ${first.at ? `touched ${formatTime(first.at, zone)} (${formatDuration((first.minutes ?? 0) * 60_000)})` : 'not touched yet'}` : '–'),
    h('dt', {}, 'Attempts in the first week'),
    h('dd', { class: attempts?.status === 'breached' ? 'breach' : undefined }, attempts ? `${attempts.status}: ${attempts.count} of ${attempts.required} by ${formatTime(attempts.windowEndsAt, zone)}` : '–'),
  );
}

async function leadDetail(root: HTMLElement, ctx: ViewContext, id: string): Promise<void> {
  show(root, h('p', {}, h('a', { href: '#/leads' }, '← Leads')), loading(`lead ${id}`));
  const { lead, transitions, touchpoints } = await get<LeadDetail>(`/v1/leads/${encodeURIComponent(id)}`, ctx.signal);
  const zone = ctx.rules.timeZone;
  const p = lead.profile ?? {};
  const shownTouchpoints = touchpoints.slice(-200).reverse();
  show(
    root,
    h('p', {}, h('a', { href: '#/leads' }, '← Leads')),
    h('h1', { 'data-lead': lead.id }, p.name ?? lead.id, ' ', h('span', { class: `badge grade-${lead.grade}` }, lead.grade), ' ', slaBadge(lead.sla)),
    h('p', { class: 'subtitle' }, [p.title, p.company, lead.businessUnit && `unit ${lead.businessUnit}`, lead.owner && `owner ${lead.owner}`].filter(Boolean).join(' · ')),
    h(
      'div',
      { class: 'kpis' },
      h('div', { class: 'kpi', 'data-field': 'stage', 'data-value': lead.stage ?? '' }, h('span', {}, 'stage'), h('strong', {}, lead.stage ?? '–')),
      h('div', { class: 'kpi', 'data-field': 'engagement', 'data-value': lead.scores.engagement }, h('span', {}, 'engagement'), h('strong', {}, lead.scores.engagement.toFixed(1))),
      h('div', { class: 'kpi', 'data-field': 'fit', 'data-value': lead.scores.fit }, h('span', {}, 'fit'), h('strong', {}, lead.scores.fit.toFixed(0))),
      h('div', { class: 'kpi' }, h('span', {}, 'next action'), h('strong', {}, lead.nextAction ?? '–')),
    ),
    h(
      'div',
      { class: 'grid2' },
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Stage timeline'),
        h(
          'ol',
          { class: 'timeline', 'data-testid': 'timeline' },
          transitions.map((t) => h('li', { 'data-stage': t.to, class: t.skipped ? 'skipped' : undefined }, h('strong', {}, t.to), ` ${formatTime(t.at, zone)}`, h('small', {}, t.skipped ? `passed through (${t.rule})` : t.rule))),
        ),
        h('h2', {}, 'SLA'),
        slaPanel(lead.sla, zone),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Score breakdown'),
        scoreTable('Fit', lead.scoreBreakdown?.fit ?? [], lead.scores.fit),
        scoreTable('Engagement', lead.scoreBreakdown?.engagement ?? [], lead.scores.engagement),
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, `Touchpoints (${formatCount(touchpoints.length)}${touchpoints.length > shownTouchpoints.length ? `, the latest ${shownTouchpoints.length}` : ''})`),
      table(
        ['when', 'type', 'source', 'channel', 'campaign'],
        shownTouchpoints.map((t) => h('tr', { 'data-event': t.event.id }, h('td', {}, formatTime(t.event.occurredAt, zone)), h('td', {}, t.event.type), h('td', {}, t.event.source ?? ''), h('td', {}, t.event.channel ?? ''), h('td', {}, t.event.campaign ?? ''))),
        { 'data-testid': 'touchpoints' },
      ),
    ),
  );
  ctx.ready();
}
