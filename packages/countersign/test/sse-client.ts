import assert from 'node:assert/strict';

export interface RawSseEvent {
  id: string | undefined;
  event: string;
  data: { action_id: string | null; type: string; event_id: number };
}

/**
 * A real HTTP client for GET /v1/events that records every event and notices when the server ends the
 * stream: what the revocation tests need to assert "ended, and nothing after the revocation arrived".
 */
export class SseClient {
  readonly events: RawSseEvent[] = [];
  /** Resolves when the server ends the stream (not when the test closes it). */
  readonly ended: Promise<void>;
  private readonly abort = new AbortController();

  private constructor(response: Response) {
    this.ended = this.pump(response);
  }

  static async open(baseUrl: string, key: string, query = ''): Promise<SseClient> {
    return SseClient.openWith(baseUrl, { authorization: `Bearer ${key}` }, query);
  }

  /** With other credentials than a key: a browser session's cookie, as EventSource sends it. */
  static async openWith(baseUrl: string, auth: Record<string, string>, query = ''): Promise<SseClient> {
    const c = new AbortController();
    const res = await fetch(`${baseUrl}/v1/events${query ? `?${query}` : ''}`, {
      headers: { ...auth, accept: 'text/event-stream' },
      signal: c.signal,
    });
    assert.equal(res.status, 200);
    const client = new SseClient(res);
    client.abort.signal.addEventListener('abort', () => c.abort());
    return client;
  }

  private async pump(res: Response): Promise<void> {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim());
          if (data.length > 0) {
            const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
            const id = /^id: (.*)$/m.exec(block)?.[1];
            this.events.push({ id, event, data: JSON.parse(data.join('\n')) });
          }
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // Closed by the test.
    }
  }

  /** Waits until an event for this action of this type has arrived (or fails after `ms`). */
  async waitFor(type: string, actionId: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.events.some((e) => e.event === type && e.data.action_id === actionId)) {
      if (Date.now() > deadline) throw new Error(`no ${type} for ${actionId} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** True if the server ended the stream within `ms`. */
  async endsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), ms);
    });
    try {
      return await Promise.race([this.ended.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.abort.abort();
  }
}
