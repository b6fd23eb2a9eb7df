/**
 * The token of a /link-chat#token=… link (a Slack or Teams account to link). It arrives in the fragment,
 * which no server sees; it is moved at once into this tab's sessionStorage and out of the address bar (and
 * history), so it survives the detour through sign-in (which keeps only path and query) without being
 * shown, bookmarked or copied along with the address. It is removed once the link is confirmed or declined.
 */
const KEY = 'cs:chat-link-token';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function captureChatLinkToken(): void {
  if (location.pathname !== '/link-chat' || location.hash === '') return;
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (token !== null && TOKEN.test(token)) sessionStorage.setItem(KEY, token);
  history.replaceState(null, '', '/link-chat');
}

export function chatLinkToken(): string | null {
  const token = sessionStorage.getItem(KEY);
  return token !== null && TOKEN.test(token) ? token : null;
}

export function forgetChatLinkToken(): void {
  sessionStorage.removeItem(KEY);
}
