import { CsError } from './errors.js';

/**
 * Where a browser goes after signing in: a path on this gateway only. An absolute URL, a
 * scheme-relative `//host` or a `/\host` (which browsers read as `//host`) would turn sign-in into an
 * open redirect that lends the gateway's name to a phishing page.
 */
export function safeReturnTo(value: string | undefined): string {
  if (value === undefined || value === '') return '/';
  const ok =
    value.length <= 2048 &&
    value.startsWith('/') &&
    !value.startsWith('//') &&
    !value.startsWith('/\\') &&
    ![...value].some((ch) => ch === '\\' || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
  if (!ok) throw new CsError('invalid_request', 'return_to must be a path on this gateway, such as /actions');
  return value;
}
