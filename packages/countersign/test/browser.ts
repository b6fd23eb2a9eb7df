import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';

/**
 * Real Chromium for tests that need a browser (WebAuthn ceremonies, the console). Debian's package by
 * default; CI installs it. A missing browser fails the suite with how to fix it: browser tests never skip.
 */
export const CHROMIUM_PATH = process.env.COUNTERSIGN_TEST_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(path = CHROMIUM_PATH): Promise<Browser> {
  if (!existsSync(path)) {
    throw new Error(
      `Chromium is not installed at ${path}: install it (apt-get install chromium) or point COUNTERSIGN_TEST_CHROMIUM at one; these tests run in a real browser and never skip`,
    );
  }
  return chromium.launch({
    executablePath: path,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A platform authenticator with a PIN/biometric that always says yes, attached to one page (DevTools WebAuthn domain). */
export interface VirtualAuthenticator {
  cdp: CDPSession;
  id: string;
}

export async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<VirtualAuthenticator> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

export interface PageResponse {
  status: number;
  body: any;
}

/**
 * What the console's script does, installed in every page of a context (plain JavaScript: the tests are
 * compiled without DOM types): `api` is a same-origin fetch with the session cookie and the CSRF cookie's
 * value echoed in X-CSRF-Token on writes; `create` / `get` run the browser half of WebAuthn, turning the
 * options JSON (base64url byte strings) into navigator.credentials calls and the credential back into JSON,
 * or `{ error }` when the browser or the authenticator refuses.
 */
const CONSOLE_SCRIPT = String.raw`
window.__cs = (() => {
  const dec = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
  const enc = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return {
    async api(method, url, body) {
      const csrf = /(?:^|;\s*)cs_csrf=([^;]+)/.exec(document.cookie)?.[1];
      const headers = {};
      if (body != null) headers['content-type'] = 'application/json';
      if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
      const res = await fetch(url, { method, headers, body: body == null ? undefined : JSON.stringify(body), credentials: 'same-origin' });
      const text = await res.text();
      let parsed = text;
      try { parsed = JSON.parse(text); } catch {}
      return { status: res.status, body: parsed };
    },
    async create(options) {
      try {
        const publicKey = {
          ...options,
          challenge: dec(options.challenge),
          user: { ...options.user, id: dec(options.user.id) },
          excludeCredentials: (options.excludeCredentials || []).map((c) => ({ ...c, id: dec(c.id) })),
        };
        const cred = await navigator.credentials.create({ publicKey });
        const r = cred.response;
        return {
          id: cred.id,
          rawId: enc(cred.rawId),
          type: cred.type,
          response: { clientDataJSON: enc(r.clientDataJSON), attestationObject: enc(r.attestationObject), transports: r.getTransports() },
          authenticatorAttachment: cred.authenticatorAttachment || undefined,
          clientExtensionResults: cred.getClientExtensionResults(),
        };
      } catch (e) {
        return { error: String(e) };
      }
    },
    async get(options) {
      try {
        const publicKey = {
          ...options,
          challenge: dec(options.challenge),
          allowCredentials: (options.allowCredentials || []).map((c) => ({ ...c, id: dec(c.id) })),
        };
        const cred = await navigator.credentials.get({ publicKey });
        const r = cred.response;
        const response = { clientDataJSON: enc(r.clientDataJSON), authenticatorData: enc(r.authenticatorData), signature: enc(r.signature) };
        if (r.userHandle) response.userHandle = enc(r.userHandle);
        return {
          id: cred.id,
          rawId: enc(cred.rawId),
          type: cred.type,
          response,
          authenticatorAttachment: cred.authenticatorAttachment || undefined,
          clientExtensionResults: cred.getClientExtensionResults(),
        };
      } catch (e) {
        return { error: String(e) };
      }
    },
  };
})();
`;

/** A fresh browser profile (no cookies) with one page open at `url`, the console's script loaded. */
export async function openPage(browser: Browser, url: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  await context.addInitScript(CONSOLE_SCRIPT);
  const page = await context.newPage();
  const res = await page.goto(url);
  if (!res?.ok()) throw new Error(`could not open ${url}: ${res?.status()}`);
  return { context, page };
}

const callIn = (page: Page, fn: string, ...args: unknown[]) => page.evaluate(`window.__cs.${fn}(...${JSON.stringify(args)})`);

/** A request from the page (same-origin fetch, cookies, CSRF header). */
export async function pageFetch(page: Page, method: 'GET' | 'POST', url: string, body?: unknown): Promise<PageResponse> {
  return (await callIn(page, 'api', method, url, body)) as PageResponse;
}

/** A credential as the page's JSON carries it (sent to the gateway as is), or why the browser refused. */
export type BrowserCredential = { id: string; error?: string } & Record<string, unknown>;

/** navigator.credentials.create() with the server's options; the credential as JSON, or { error }. */
export async function createCredential(page: Page, options: unknown): Promise<BrowserCredential> {
  return (await callIn(page, 'create', options)) as BrowserCredential;
}

/** navigator.credentials.get() with the server's options; the assertion as JSON, or { error }. */
export async function getAssertion(page: Page, options: unknown): Promise<BrowserCredential> {
  return (await callIn(page, 'get', options)) as BrowserCredential;
}
