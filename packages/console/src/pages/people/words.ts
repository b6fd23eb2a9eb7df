/**
 * Times, devices and grant scopes in words for the Account and Administration pages. Pure functions (no
 * DOM), so packages/console/test/people-words.test.ts checks them directly.
 */

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600_000],
  ['month', 30 * 24 * 3600_000],
  ['week', 7 * 24 * 3600_000],
  ['day', 24 * 3600_000],
  ['hour', 3600_000],
  ['minute', 60_000],
];

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "in 3 hours", "2 days ago", "just now" (under a minute either way). */
export function fromNow(iso: string, now: number): string {
  const diff = Date.parse(iso) - now;
  if (Number.isNaN(diff)) return iso;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) return relative.format(Math.round(diff / ms), unit);
  }
  return 'just now';
}

/** For what already happened (a sign-in, a last use): a time a little ahead of this browser's clock is "just now". */
export function ago(iso: string, now: number): string {
  const t = Date.parse(iso);
  return !Number.isNaN(t) && t > now ? 'just now' : fromNow(iso, now);
}

const absolute = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });

/** "6 Dec 2026, 19:40" in the browser's time zone. */
export function dateText(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : absolute.format(t);
}

/** A short name for the browser and system a session was opened from ("Chrome on Linux"). */
export function deviceOf(userAgent: string | null): string {
  if (userAgent === null || userAgent === '') return 'An unknown device';
  const ua = userAgent;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /HeadlessChrome\//.test(ua)
        ? 'Headless Chrome'
        : /Chrome\/|CriOS\//.test(ua)
          ? 'Chrome'
          : /Safari\//.test(ua)
            ? 'Safari'
            : /curl\//i.test(ua)
              ? 'curl'
              : null;
  const system = /iPhone|iPad/.test(ua)
    ? 'iOS'
    : /Android/.test(ua)
      ? 'Android'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X|Macintosh/.test(ua)
          ? 'macOS'
          : /Linux|X11/.test(ua)
            ? 'Linux'
            : null;
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? 'Another program';
}

/** The `datetime-local` input's value (the browser's own time) as an ISO instant, or undefined when empty/invalid. */
export function localToIso(value: string): string | undefined {
  if (value === '') return undefined;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** How a standing grant has been used: "2 of 5 uses", "1 use, no limit". */
export function usesText(uses: number, max: number | null): string {
  if (max === null) return `${uses} ${uses === 1 ? 'use' : 'uses'}, no limit`;
  return `${uses} of ${max} ${max === 1 ? 'use' : 'uses'}`;
}

/** Where a grant stands now: "expires in 3 hours", "expired 2 days ago", "revoked 1 hour ago by ada@…", "used up". */
export function grantStateText(
  g: { expires_at: string; revoked_at: string | null; revoked_by: string | null; uses: number; max_uses: number | null },
  now: number,
): string {
  if (g.revoked_at !== null) return `revoked ${fromNow(g.revoked_at, now)}${g.revoked_by ? ` by ${g.revoked_by}` : ''}`;
  if (g.max_uses !== null && g.uses >= g.max_uses) return 'used up';
  const t = Date.parse(g.expires_at);
  return t <= now ? `expired ${fromNow(g.expires_at, now)}` : `expires ${fromNow(g.expires_at, now)}`;
}

/** Groups typed as "sre, on-call ,db": trimmed, without empties or repeats. */
export function parseGroups(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
}
