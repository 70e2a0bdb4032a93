/**
 * sluice.js: the browser tracker a site adds with one tag,
 *   <script async src="https://sluice.example.com/sluice.js" data-key="SITE_KEY"></script>
 * No dependencies; bundled with the channel rules into prebuilt/sluice.js
 * (`pnpm --filter @sluice/tracker build`), and the server puts its settings
 * in place of SLUICE_SETTINGS when it serves the file.
 */
import { attribute } from '../src/channels.js';
import type { Attribution, ChannelRule } from '../src/channels.js';

interface Settings {
  consentRequired: boolean;
  honorDoNotTrack: boolean;
  leadIdField: string;
  hashLeadId: boolean;
  sessionMinutes: number;
  fileExtensions: string[];
  flushMs: number;
  channels: ChannelRule[];
  /** the types a site key may write (the server refuses a batch holding any other) */
  types: string[];
}
declare const SLUICE_SETTINGS: Settings;

interface SluiceEvent {
  id: string;
  type: string;
  occurredAt: string;
  anonymousId: string;
  leadId?: string;
  source?: string;
  channel?: string;
  campaign?: string;
  properties: Record<string, unknown>;
}
interface Session extends Attribution {
  id: string;
  lastAt: number;
}

(() => {
  const settings = SLUICE_SETTINGS;
  const script = document.currentScript as HTMLScriptElement | null;
  const key = script?.getAttribute('data-key');
  if (!script || !key) return console.warn('sluice.js: add data-key="<site key>" to its script tag');
  const endpoint = `${new URL(script.src).origin}/v1/collect?key=${encodeURIComponent(key)}`;
  const dnt = settings.honorDoNotTrack && (navigator.doNotTrack === '1' || (window as { doNotTrack?: string }).doNotTrack === '1');
  const AID = 'sluice_aid';
  const SESSION = 'sluice_session';
  const LEAD = 'sluice_lid';
  const CONSENT = 'sluice_consent';

  const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const newId = () => hex(crypto.getRandomValues(new Uint8Array(16)));

  // Storage: the first-party cookie, else localStorage; nothing at all before consent.
  const cookie = (name: string) => document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`))?.[1];
  const store = {
    get(name: string): string | undefined {
      const value = cookie(name);
      if (value !== undefined) return decodeURIComponent(value);
      try {
        return localStorage.getItem(name) ?? undefined;
      } catch {
        return undefined;
      }
    },
    set(name: string, value: string, days = 365) {
      document.cookie = `${name}=${encodeURIComponent(value)}; max-age=${days * 86400}; path=/; SameSite=Lax`;
      if (cookie(name) !== undefined) return;
      try {
        localStorage.setItem(name, value);
      } catch {
        // neither is writable: the ids live as long as the page
      }
    },
  };

  // where this page load arrived from: a session that starts later (at consent, after route changes) still credits it
  const landing = { url: location.href, search: location.search, referrer: document.referrer };
  let consented = !settings.consentRequired || store.get(CONSENT) === '1';
  let anonymousId = '';
  let leadId: string | undefined;
  let session: Session | undefined;
  let lastPath = '';
  /** events made before consent: kept in memory only, sent once consent is given */
  let waiting: SluiceEvent[] = [];
  let queue: SluiceEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let retries = 0;

  function ids() {
    anonymousId ||= store.get(AID) ?? newId();
    store.set(AID, anonymousId);
    leadId ??= store.get(LEAD);
  }

  /** A session lasts while events come within sessionMinutes; new UTM parameters start another. */
  function touchSession(now: number): boolean {
    const params = new URLSearchParams(landing.search);
    const saved = store.get(SESSION);
    if (saved !== undefined && session === undefined) {
      try {
        session = JSON.parse(saved) as Session;
      } catch {
        session = undefined;
      }
    }
    const arriving = attribute(
      { utmSource: params.get('utm_source') ?? undefined, utmMedium: params.get('utm_medium') ?? undefined, utmCampaign: params.get('utm_campaign') ?? undefined, referrer: landing.referrer, ownHost: location.hostname },
      settings.channels,
    );
    const expired = session === undefined || now - session.lastAt > settings.sessionMinutes * 60_000;
    const newCampaign = params.has('utm_source') && (arriving.source !== session?.source || arriving.campaign !== session?.campaign);
    const started = expired || newCampaign;
    if (started) session = { id: newId(), lastAt: now, ...arriving };
    session!.lastAt = now;
    store.set(SESSION, JSON.stringify(session), 1);
    return started;
  }

  function emit(type: string, properties: Record<string, unknown>, flushNow = false) {
    if (dnt) return;
    if (!settings.types.includes(type)) return console.warn(`sluice.js: a site key may send ${settings.types.join(', ')}, not ${type}`);
    const now = Date.now();
    const event: SluiceEvent = { id: newId(), type, occurredAt: new Date(now).toISOString(), anonymousId: '', properties };
    if (!consented) {
      waiting.push(event);
      return;
    }
    stamp(event, now);
    queue.push(event);
    schedule(flushNow ? 0 : settings.flushMs);
  }

  /** ids and the session's attribution, once consent allows them */
  function stamp(event: SluiceEvent, now: number) {
    ids();
    const started = touchSession(now);
    if (started && event.type !== 'visit') queue.push(visitEvent(now));
    event.anonymousId = anonymousId;
    if (leadId !== undefined) event.leadId = leadId;
    const { source, channel, campaign } = session!;
    Object.assign(event, source === undefined ? {} : { source }, { channel }, campaign === undefined ? {} : { campaign });
    event.properties.x = { ...(event.properties.x as object), sessionId: session!.id };
  }

  function visitEvent(now: number): SluiceEvent {
    const { url, referrer } = landing;
    const event: SluiceEvent = { id: newId(), type: 'visit', occurredAt: new Date(now).toISOString(), anonymousId, properties: { url, landingPage: url, ...(referrer ? { referrer } : {}) } };
    const { source, channel, campaign } = session!;
    Object.assign(event, source === undefined ? {} : { source }, { channel }, campaign === undefined ? {} : { campaign });
    if (leadId !== undefined) event.leadId = leadId;
    event.properties.x = { sessionId: session!.id };
    return event;
  }

  function schedule(ms: number) {
    if (timer !== undefined) {
      if (ms > 0) return;
      clearTimeout(timer);
    }
    timer = setTimeout(flush, ms);
  }

  /** Sends the queue; a failure keeps the same events (the same ids) for the next try, so a retry is stored once. */
  function flush() {
    timer = undefined;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    fetch(endpoint, { method: 'POST', body: JSON.stringify(batch), headers: { 'content-type': 'text/plain' }, keepalive: true, credentials: 'omit' }).then(
      (response) => {
        if (response.ok) retries = 0;
        else if (response.status === 429 || response.status >= 500) retry(batch);
        else console.warn(`sluice.js: the server refused ${batch.length} events (${response.status})`);
      },
      () => retry(batch),
    );
  }

  function retry(batch: SluiceEvent[]) {
    queue = batch.concat(queue);
    retries++;
    if (retries <= 6) schedule(Math.min(30_000, 1000 * 2 ** retries));
  }

  /** On page hide the queue goes by beacon, which outlives the page. */
  function beacon() {
    if (queue.length === 0) return;
    if (navigator.sendBeacon(endpoint, new Blob([JSON.stringify(queue)], { type: 'text/plain' }))) queue = [];
  }

  function pageView() {
    if (location.pathname + location.search === lastPath) return;
    lastPath = location.pathname + location.search;
    emit('page_view', { url: location.href, ...(document.title ? { title: document.title.slice(0, 200) } : {}), x: { path: location.pathname, ...(document.referrer ? { referrer: document.referrer } : {}) } });
  }

  async function leadIdOf(value: string): Promise<string> {
    if (!settings.hashLeadId) return value.trim();
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value.trim().toLowerCase()));
    return hex(new Uint8Array(digest));
  }

  async function identify(id: string, traits: Record<string, unknown> = {}) {
    if (dnt || id === '') return;
    leadId = await leadIdOf(id);
    if (consented) store.set(LEAD, leadId);
    // profile facts as identify takes them; any other trait goes under x
    const profile: Record<string, unknown> = {};
    const x: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(traits)) (PROFILE_FACTS.includes(name) ? profile : x)[name] = value;
    if (settings.hashLeadId) delete profile.email;
    emit('identify', { ...profile, x }, true);
  }

  const PROFILE_FACTS = ['email', 'name', 'title', 'role', 'company', 'industry', 'companySize', 'country', 'businessUnit', 'leadSource'];
  const safeId = (text: string) => text.replace(/[^A-Za-z0-9._:@/+=-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128) || 'item';

  document.addEventListener(
    'submit',
    (e) => {
      const form = e.target as HTMLFormElement;
      if (!form.hasAttribute('data-sluice-form')) return;
      const formId = safeId(form.getAttribute('data-sluice-form') || form.id || form.getAttribute('name') || 'form');
      const field = form.elements.namedItem(settings.leadIdField) as HTMLInputElement | null;
      emit('form_submit', { formId, landingPage: location.href }, true);
      if (field?.value) {
        const traits: Record<string, unknown> = {};
        for (const fact of ['email', 'name', 'company', 'title']) {
          const input = form.elements.namedItem(fact) as HTMLInputElement | null;
          if (input?.value) traits[fact] = input.value.slice(0, 200);
        }
        void identify(field.value, traits).then(beacon);
      } else beacon();
    },
    true,
  );

  document.addEventListener(
    'click',
    (e) => {
      const link = (e.target as Element).closest?.('a[href]') as HTMLAnchorElement | null;
      if (!link) return;
      const file = link.pathname.split('/').pop() ?? '';
      const extension = file.includes('.') ? file.split('.').pop()!.toLowerCase() : '';
      if (!settings.fileExtensions.includes(extension)) return;
      const name = decodeURIComponent(file);
      emit('content_download', { contentId: safeId(name), title: name.slice(0, 200), x: { url: link.href } });
      beacon();
    },
    true,
  );

  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      pageView();
    };
  }
  addEventListener('popstate', pageView);
  addEventListener('pagehide', beacon);
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && beacon());

  (window as unknown as { sluice: unknown }).sluice = {
    track: (type: string, properties: Record<string, unknown> = {}) => emit(type, { ...properties }),
    identify,
    /** consent(true) stores the ids and sends what waited; consent(false) forgets it */
    consent(granted: boolean) {
      if (!granted) {
        waiting = [];
        return;
      }
      if (!consented) {
        consented = true;
        store.set(CONSENT, '1');
        if (leadId !== undefined) store.set(LEAD, leadId);
        const now = Date.now();
        for (const event of waiting) {
          stamp(event, now);
          queue.push(event);
        }
        waiting = [];
        schedule(0);
      }
    },
    flush: () => schedule(0),
  };
  pageView();
})();
