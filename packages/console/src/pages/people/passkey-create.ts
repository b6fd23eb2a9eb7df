import { startRegistration, WebAuthnError } from '@simplewebauthn/browser';
import { CeremonyError } from '../../auth/passkey.js';

/**
 * Asks the browser to make a passkey (navigator.credentials.create) with the gateway's options; the
 * credential as JSON. A cancelled prompt, or an authenticator that already holds this account's passkey,
 * becomes a CeremonyError in words.
 */
export async function createPasskey(options: Record<string, unknown>): Promise<unknown> {
  try {
    return await startRegistration({ optionsJSON: options as unknown as Parameters<typeof startRegistration>[0]['optionsJSON'] });
  } catch (e) {
    const code = e instanceof WebAuthnError ? e.code : undefined;
    const name = (e as { name?: string } | null)?.name;
    if (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' || name === 'InvalidStateError') {
      throw new CeremonyError('This passkey (or this device) is already registered to your account.');
    }
    if (code === 'ERROR_CEREMONY_ABORTED' || name === 'NotAllowedError' || name === 'AbortError') {
      throw new CeremonyError('The passkey prompt was cancelled or timed out. Nothing was added.');
    }
    throw new CeremonyError(`Your browser could not make a passkey: ${e instanceof Error ? e.message : String(e)}`);
  }
}
