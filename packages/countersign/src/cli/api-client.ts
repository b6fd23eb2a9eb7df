import { CsError, ERROR_CODES, type ErrorCode } from '../lib/errors.js';

/** Minimal client for the people-facing CLI commands; errors come back as the server's domain errors. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly key: string | undefined,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): ApiClient {
    return new ApiClient((env.COUNTERSIGN_URL ?? 'http://127.0.0.1:8700').replace(/\/+$/, ''), env.COUNTERSIGN_KEY);
  }

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    if (!this.key) throw new CsError('unauthenticated', 'set COUNTERSIGN_KEY to your API key (from "countersign users add")');
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (e) {
      throw new CsError(
        'unavailable',
        `cannot reach the gateway at ${this.baseUrl} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}); set COUNTERSIGN_URL`,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CsError('internal', `the gateway answered ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      const code = (ERROR_CODES as readonly string[]).includes(e?.code ?? '') ? (e?.code as ErrorCode) : 'internal';
      throw new CsError(code, e?.message ?? `the gateway answered ${res.status}`);
    }
    return json as T;
  }
}
