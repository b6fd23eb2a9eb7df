import { CsError } from '../../../lib/errors.js';
import { DummyHash, verifyPassword } from './kdf.js';

/** Verifications running at once; each holds 128 MiB and a libuv thread for about a second at OWASP's cost. */
const CONCURRENT = 2;
/** Waiting beyond this is refused (503), so a flood of sign-ins cannot queue unbounded memory and time. */
const QUEUE = 64;

/**
 * Checks passwords for sign-ins, one per gateway (in the deps). scrypt is memory-hard on purpose, so an
 * unauthenticated request can cost the server more than any other: at most CONCURRENT run at once (the
 * rest of libuv's pool stays free for other work), and a full queue answers 503 with Retry-After rather
 * than letting the process grow. An unknown account is checked against a dummy hash, so it takes as long.
 */
export class PasswordChecker {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly dummy: DummyHash;

  constructor(logN: number) {
    this.dummy = new DummyHash(logN);
  }

  /**
   * Computes the dummy hash now rather than at the first sign-in for an unknown email, which would otherwise
   * take twice as long as every later one and tell the caller that no such account exists.
   */
  async warm(): Promise<void> {
    await this.dummy.get();
  }

  get warmed(): boolean {
    return this.dummy.started;
  }

  async verify(password: string, stored: string | null): Promise<boolean> {
    await this.acquire();
    try {
      return await verifyPassword(password, stored ?? (await this.dummy.get()));
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < CONCURRENT) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= QUEUE) {
      return Promise.reject(
        new CsError('unavailable', 'too many sign-ins at once; retry in a few seconds', { details: { retry_after_seconds: 5 } }),
      );
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
