import { z } from 'zod';
import { AuthenticationCredential, RegistrationCredential } from './relying-party.js';

/** A passkey as its owner (and an admin) sees it; the key material never leaves the gateway. */
export const PasskeyView = z.object({
  id: z.string(),
  name: z.string(),
  transports: z.array(z.string()),
  device_type: z.enum(['singleDevice', 'multiDevice']).describe('multiDevice: a synced passkey'),
  backed_up: z.boolean(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});
export type PasskeyView = z.infer<typeof PasskeyView>;

/** A name the person gives the passkey (shown in lists): printable, trimmed. */
const PasskeyName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}]+$/u, 'no control characters');

export const PasskeyParams = z.strictObject({ id: z.uuid() });
export const AdminPasskeyParams = z.strictObject({ user: z.string().min(1).max(320), id: z.uuid() });

export const RegisterPasskeyBody = z.strictObject({
  name: PasskeyName.optional().describe('defaults to "Passkey"'),
  credential: RegistrationCredential,
});
export const RenamePasskeyBody = z.strictObject({ name: PasskeyName });

export const PasskeySignInBody = z.strictObject({
  pending_token: z.string().min(1).max(128).describe('from the 202 answer of POST /v1/auth/login'),
  credential: AuthenticationCredential,
});
export const ReauthenticateBody = z.strictObject({ credential: AuthenticationCredential });

/** Options for navigator.credentials.create() / .get(), as JSON (base64url for every byte string). */
export const CreationOptions = z.object({}).catchall(z.unknown()).describe('PublicKeyCredentialCreationOptionsJSON');
export const RequestOptions = z.object({}).catchall(z.unknown()).describe('PublicKeyCredentialRequestOptionsJSON');

export const PasskeyRequired = z.object({
  passkey_required: z.literal(true),
  pending_token: z.string().describe('send it back with the assertion to POST /v1/auth/login/passkey; works once'),
  expires_at: z.string(),
  options: RequestOptions,
});

export const Reauthenticated = z.object({
  session_id: z.string(),
  strong_at: z.string().describe('the session counts as strongly authenticated from this time'),
});
