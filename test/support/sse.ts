// An EventSource-style reader over fetch: parses the stream into events (type, id, data) as the
// WHATWG spec does, so tests see exactly what a browser's EventSource would.
export interface SseEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: any;
}

export interface SseClient {
  readonly status: number;
  readonly headers: Headers;
  readonly events: SseEvent[];
  readonly comments: string[];
  next(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  ended(): Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  let done = false;
  const finished = (async () => {
    if (!res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return;
    const decoder = new TextDecoder();
    let buffer = '';
    let event = '';
    let id: string | undefined;
    let data: string[] = [];
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (data.length > 0)
              events.push({ event: event || 'message', id, data: JSON.parse(data.join('\n')) });
            event = '';
            id = undefined;
            data = [];
            for (const w of [...waiters]) w();
          } else if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event = value;
            else if (field === 'id') id = value;
            else if (field === 'data') data.push(value);
          }
        }
      }
    } catch {
      // aborted
    }
    done = true;
    for (const w of [...waiters]) w();
  })();
  return {
    status: res.status,
    headers: res.headers,
    events,
    comments,
    next: (match, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found) {
            finish();
            resolve(found);
          } else if (done) {
            finish();
            reject(new Error(`stream ended; events: ${JSON.stringify(events.slice(-5))}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(`no matching event within ${timeoutMs} ms; last: ${JSON.stringify(events.slice(-5))}`),
          );
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    ended: () => finished,
    close: () => abort.abort(),
  };
}
