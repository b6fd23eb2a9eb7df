import { startAuthentication, WebAuthnError } from '@simplewebauthn/browser';
import { ApiError } from '../api/client.js';

/** A passkey ceremony that did not give a credential, in words a person can act on. */
export class CeremonyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CeremonyError';
  }
}

/**
 * Asks the browser for a passkey assertion (navigator.credentials.get) with the gateway's options; the
 * credential as JSON, ready to send. A cancelled or timed-out prompt becomes a CeremonyError saying so.
 */
export async function assertPasskey(options: Record<string, unknown>): Promise<unknown> {
  try {
    // The options come from @simplewebauthn/server on the gateway, the shape startAuthentication takes.
    return await startAuthentication({ optionsJSON: options as unknown as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
  } catch (e) {
    const names = [
      (e as { name?: string } | null)?.name,
      e instanceof WebAuthnError ? (e.cause as { name?: string } | undefined)?.name : undefined,
    ];
    const name = names.find((n) => n !== undefined && n !== 'WebAuthnError' && n !== 'Error');
    if (name === 'NotAllowedError' || name === 'AbortError' || (e instanceof WebAuthnError && e.code === 'ERROR_CEREMONY_ABORTED')) {
      throw new CeremonyError('The passkey prompt was cancelled or timed out. Try again when your passkey is at hand.');
    }
    if (name === 'SecurityError') throw new CeremonyError('This browser refused the passkey for this site (check the address you opened).');
    throw new CeremonyError(`Your browser could not use a passkey: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The words to show for a failed passkey step, whatever failed. */
export function passkeyFailure(e: unknown): string {
  if (e instanceof CeremonyError) return e.message;
  if (e instanceof ApiError) {
    if (e.status === 401 || e.status === 403) return `The gateway refused this passkey: ${e.message}`;
    return e.message;
  }
  return 'The gateway cannot be reached.';
}
