import { createHash } from 'node:crypto';

/**
 * The CSRF token of a session: sha256 of a label and the session token. Only someone who holds the
 * session token can compute it, and a cross-site page can neither read the victim's cookies nor forge
 * the header, so requiring it on cookie-authenticated writes is the "signed double-submit cookie" OWASP
 * describes, with nothing extra to store or to expire.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`countersign-csrf\0${sessionToken}`).digest('base64url');
}
