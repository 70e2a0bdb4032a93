import { authHeaders, loginRequired, LoginRequired } from './api.js';

export interface StreamMessage {
  id: string;
  event: string;
  data: string;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting';

const RETRY_MS = 2000;

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Splits a text/event-stream into messages; comment lines (keep-alives) are dropped. */
export function parseBlock(block: string): StreamMessage | undefined {
  const message: StreamMessage = { id: '', event: 'message', data: '' };
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'id') message.id = value;
    else if (name === 'event') message.event = value;
    else if (name === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  message.data = data.join('\n');
  return message;
}

/**
 * Follows the API's change stream until `signal` aborts. EventSource cannot
 * send an Authorization header, so this reads the stream with fetch, and
 * resumes after a dropped connection with Last-Event-ID, as EventSource would.
 */
export async function followStream(path: string, onMessage: (m: StreamMessage) => void, onState: (s: StreamState) => void, signal: AbortSignal): Promise<void> {
  let lastId: string | undefined;
  onState('connecting');
  while (!signal.aborted) {
    try {
      const res = await fetch(path, { headers: { accept: 'text/event-stream', ...authHeaders(), ...(lastId ? { 'last-event-id': lastId } : {}) }, signal });
      if (res.status === 401) throw loginRequired();
      if (!res.ok || !res.body) throw new Error(`the change stream answered ${res.status}`);
      onState('live');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const message = parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (message === undefined) continue;
          if (message.id) lastId = message.id;
          onMessage(message);
        }
      }
    } catch (err) {
      if (err instanceof LoginRequired || signal.aborted) return;
    }
    onState('reconnecting');
    await pause(RETRY_MS, signal);
  }
}
