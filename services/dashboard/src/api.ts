/** The API as the dashboard calls it: same origin, a read key from the login form sent as a bearer token. */
import type { QueryAnswer, QueryBody, QueryPath } from '@sluice/analytics/api';

const KEY = 'sluice.apiKey';

/** RFC 9457 problem details, the API's one error shape. */
export interface Problem {
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ field: string; message: string; index?: number }>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem ? `${problem.title}: ${problem.detail}` : `the API answered ${status}`);
  }
}

/** Thrown after a 401: the key is gone from the session and the login form is asked for. */
export class LoginRequired extends Error {
  constructor() {
    super('an API key is required');
  }
}

export const LOGIN_REQUIRED_EVENT = 'sluice:login-required';

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  signIn: (key: string) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

export function authHeaders(): Record<string, string> {
  const key = session.key();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** A 401 ends the session: the key is dropped and the shell shows the login form. */
export function loginRequired(): LoginRequired {
  session.signOut();
  window.dispatchEvent(new CustomEvent(LOGIN_REQUIRED_EVENT));
  return new LoginRequired();
}

/** Where an answer from the read models or ClickHouse stands on the log: every event up to position is in it, head is the log's head when asked. */
export interface Freshness {
  position: number;
  head: number;
  caughtUp: boolean;
}

type BehindListener = (freshness: Freshness, signal: AbortSignal | undefined) => void;
const behindListeners = new Set<BehindListener>();

/** Hears of every answer that was behind the log, with the signal it was asked under (a view's); returns the unsubscribe. */
export function onBehind(listener: BehindListener): () => void {
  behindListeners.add(listener);
  return () => behindListeners.delete(listener);
}

async function request<T>(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal | undefined): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), ...(signal ? { signal } : {}) });
  if (res.status === 401) throw loginRequired();
  if (!res.ok) throw new ApiError(res.status, (await res.json().catch(() => undefined)) as Problem | undefined);
  const answer = (await res.json()) as T;
  const freshness = (answer as { freshness?: Freshness } | null)?.freshness;
  if (freshness?.caughtUp === false) for (const listener of behindListeners) listener(freshness, signal);
  return answer;
}

export const get = <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, signal);
export const post = <T>(path: string, body: unknown, signal?: AbortSignal) => request<T>('POST', path, body, signal);

/**
 * A declared query (the registry the API's routes are made from, @sluice/analytics): its path picks the body it takes and the
 * answer it gives, so neither is written twice (types only: nothing of the server reaches the bundle).
 */
export const query = <P extends QueryPath>(path: P, body: QueryBody<P>, signal?: AbortSignal) => post<QueryAnswer<P>>(path, body, signal);
