/**
 * Whether a Bot Connector service URL is one the bot trusts (`notifications.teams.service_url_allow`;
 * `*` matches any run of characters, everything else literally). The bot sends its bearer token to the
 * serviceUrl of the conversation, so a URL outside the list is never stored and never called.
 */
export function serviceUrlAllowed(patterns: readonly string[], url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username !== '' || parsed.password !== '') return false;
  return patterns.some((p) => patternRegExp(p).test(url));
}

function patternRegExp(pattern: string): RegExp {
  const literal = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`);
}

/** `https://host/path/` + `v3/conversations…`: the service URL's path is kept, one slash between. */
export function connectorUrl(serviceUrl: string, path: string): string {
  return `${serviceUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
