import { z } from 'zod';
import type { Config } from '../../../config/schema.js';
import { CsError } from '../../../lib/errors.js';
import { publicOriginOf } from '../links/origin.js';

export const RP_NAME = 'Countersign';

export interface RelyingParty {
  /** The host name credentials are scoped to (browsers refuse an IP address). */
  rpId: string;
  name: string;
  /** Origins a ceremony may come from (what the browser writes into clientDataJSON). */
  origins: string[];
}

/**
 * Who the gateway is to an authenticator: `auth.passkeys.rp_id` / `origins` when set (behind a proxy that
 * serves the console at another name), else the public URL's host and origin. Credentials are bound to the
 * rp id, so changing it later leaves existing passkeys unusable.
 */
export function relyingPartyOf(config: Config): RelyingParty {
  const origin = publicOriginOf(config);
  const rpId = config.auth.passkeys.rpId ?? origin.hostname;
  if (/^[\d.]+$/.test(rpId) || rpId.startsWith('[')) {
    throw new CsError(
      'invalid_request',
      `passkeys need a host name, not the address ${rpId}: set server.public_url (or auth.passkeys.rp_id), e.g. http://localhost:${origin.port || 80}`,
    );
  }
  return { rpId, name: RP_NAME, origins: config.auth.passkeys.origins ?? [origin.origin] };
}

const b64url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, 'base64url');

const TRANSPORTS = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'] as const;

const ClientExtensionResults = z
  .record(z.string().max(64), z.unknown())
  .refine((r) => Object.keys(r).length <= 20, 'at most 20 extension results');

/** What `navigator.credentials.create()` returns, as JSON (PublicKeyCredential.toJSON()). */
export const RegistrationCredential = z.object({
  id: b64url(1366),
  rawId: b64url(1366),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url(8192),
    attestationObject: b64url(65_536),
    transports: z.array(z.enum(TRANSPORTS)).max(TRANSPORTS.length).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: ClientExtensionResults,
});
export type RegistrationCredential = z.infer<typeof RegistrationCredential>;

/** What `navigator.credentials.get()` returns, as JSON. */
export const AuthenticationCredential = z.object({
  id: b64url(1366),
  rawId: b64url(1366),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url(8192),
    authenticatorData: b64url(8192),
    signature: b64url(2048),
    userHandle: b64url(128).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: ClientExtensionResults,
});
export type AuthenticationCredential = z.infer<typeof AuthenticationCredential>;

/** The challenge the browser signed (from clientDataJSON), or null when it cannot be read. */
export function signedChallenge(clientDataJSON: string): string | null {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof data.challenge === 'string' && /^[A-Za-z0-9_-]{1,256}$/.test(data.challenge) ? data.challenge : null;
  } catch {
    return null;
  }
}

/**
 * @simplewebauthn/server, with the ASN.1 and X.509 stack under it, takes a third of a second of CPU to import:
 * more than the rest of the identity code together. It is loaded by the first passkey ceremony, not by every
 * process that starts a gateway or runs an admin command.
 */
export const webauthn = () => import('@simplewebauthn/server');
