import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Config } from '../src/config/schema.js';
import type { Clock } from '../src/lib/clock.js';
import { addVirtualAuthenticator, createCredential, getAssertion, openPage, pageFetch, type VirtualAuthenticator } from './browser.js';
import { type Dialect, type World, world } from './helpers.js';
import { fastPasswords, PASSWORD, withPassword } from './session-helpers.js';

/** A port free right now, so the gateway's public URL (and so the WebAuthn rp id and origin) is known before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

export interface PasskeyWorld extends World {
  /** http://localhost:<port>: a secure context for the browser, and a host name (an IP is no rp id). */
  origin: string;
}

/** A listening gateway at http://localhost:<port>, alice and bob with passwords. */
export async function passkeyWorld(dialect: Dialect, clock: Clock, more: (c: Config) => Config = (c) => c): Promise<PasskeyWorld> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const config = (c: Config): Config => {
    const f = fastPasswords(more(c));
    return { ...f, server: { ...f.server, host: '127.0.0.1', port, publicUrl: origin } };
  };
  const w = await world(dialect, { clock, config, listen: true });
  await withPassword(w, 'alice@example.com', PASSWORD, origin);
  await withPassword(w, 'bob@example.com', PASSWORD, origin);
  return { ...w, origin };
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  authenticator: VirtualAuthenticator;
}

/** A fresh browser profile on the gateway's sign-in page, with its own virtual authenticator. */
export async function newTab(browser: Browser, w: PasskeyWorld): Promise<Tab> {
  const { context, page } = await openPage(browser, `${w.origin}/setup`);
  return { context, page, authenticator: await addVirtualAuthenticator(context, page) };
}

export async function passwordStep(tab: Tab, email: string, password = PASSWORD) {
  return pageFetch(tab.page, 'POST', '/v1/auth/login', { email, password });
}

/** Signs in with the password (no passkey yet) and adds a passkey from this tab's authenticator. */
export async function signInAndRegister(tab: Tab, email: string, name = 'Laptop'): Promise<{ id: string; credentialId: string }> {
  const signedIn = await passwordStep(tab, email);
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  return register(tab, name);
}

export async function register(tab: Tab, name = 'Laptop'): Promise<{ id: string; credentialId: string }> {
  const options = await pageFetch(tab.page, 'POST', '/v1/me/passkeys/options');
  assert.equal(options.status, 200, JSON.stringify(options.body));
  const credential = await createCredential(tab.page, options.body);
  assert.ok(!credential.error, credential.error);
  const added = await pageFetch(tab.page, 'POST', '/v1/me/passkeys', { name, credential });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  return { id: added.body.id, credentialId: credential.id };
}

/** Password then passkey, as the sign-in page does: the final response (200 when signed in). */
export async function signInWithPasskey(tab: Tab, email: string) {
  const first = await passwordStep(tab, email);
  assert.equal(first.status, 202, JSON.stringify(first.body));
  const credential = await getAssertion(tab.page, first.body.options);
  assert.ok(!credential.error, credential.error);
  const body = { pending_token: first.body.pending_token, credential };
  return { res: await pageFetch(tab.page, 'POST', '/v1/auth/login/passkey', body), body };
}
