import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'countersign';
export const CLIENT_SECRET = 'a-test-client-secret';
export const PUBLIC_URL = 'http://localhost:8700';
export const REDIRECT_URI = `${PUBLIC_URL}/v1/auth/oidc/callback`;

export interface IdpAccount {
  email: string;
  email_verified?: boolean;
  name?: string;
  groups: string[];
}

/**
 * A real OpenID Connect provider (`oidc-provider`, the certified Node implementation) on a random
 * loopback port, with Countersign registered as a confidential client and its development interactions
 * (a login form that takes any account id, then a consent form) driven over plain HTTP. `accounts` is
 * the IdP's directory: change it between sign-ins as an IdP admin would. `rewriteIdToken`, when set,
 * re-signs the next ID tokens with the IdP's own key after changing claims (an IdP that issues tokens
 * for another audience, say).
 */
export class TestIdp {
  readonly accounts = new Map<string, IdpAccount>();
  rewriteIdToken: ((claims: Record<string, unknown>) => Record<string, unknown>) | undefined;
  /** Re-sign rewritten tokens with a key the IdP never published (same `kid`): a forged token. */
  signWithForeignKey = false;
  private constructor(
    readonly issuer: string,
    private readonly server: Server,
    private readonly key: JWK,
    /** Where the IdP sends the browser back to (the gateway's callback at its public URL). */
    readonly redirectUri: string,
  ) {}

  /** `redirectUri`: another registered callback, for a gateway whose public URL is not PUBLIC_URL (a browser test's). */
  static async start(redirectUri = REDIRECT_URI): Promise<TestIdp> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const key = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
    const idp: TestIdp = new TestIdp(issuer, server, key, redirectUri);
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      jwks: { keys: [key] },
      cookies: { keys: ['test-cookie-key'] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
      // Put the scopes' claims in the ID token itself (what Keycloak and Entra ID do for groups).
      conformIdTokenClaims: false,
      features: { devInteractions: { enabled: true } },
      findAccount: async (_ctx, sub) => {
        const a = idp.accounts.get(sub);
        if (!a) return undefined;
        return {
          accountId: sub,
          claims: async () => ({
            sub,
            email: a.email,
            email_verified: a.email_verified ?? true,
            name: a.name ?? a.email,
            groups: a.groups,
          }),
        };
      },
    });
    provider.use(async (ctx, next) => {
      await next();
      const rewrite = idp.rewriteIdToken;
      const body = ctx.body as { id_token?: string } | undefined;
      if (ctx.path === '/token' && rewrite && body && typeof body.id_token === 'string') {
        body.id_token = await idp.sign(rewrite(decodeJwt(body.id_token) as Record<string, unknown>));
      }
    });
    server.on('request', provider.callback());
    return idp;
  }

  private async sign(claims: Record<string, unknown>): Promise<string> {
    const key = this.signWithForeignKey ? (await generateKeyPair('RS256')).privateKey : await importJWK(this.key, 'RS256');
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).sign(key);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * A browser at the IdP: follows redirects from `authorizationUrl` with its own cookie jar, signs in as
   * `sub` and consents, and returns the URL the IdP finally sends the browser to (the gateway's callback).
   */
  async authorize(authorizationUrl: string, sub: string): Promise<URL> {
    const jar = new Map<string, string>();
    const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const keep = (res: Response) => {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = (pair ?? '').indexOf('=');
        if (eq > 0) jar.set((pair as string).slice(0, eq), (pair as string).slice(eq + 1));
      }
    };
    let url = new URL(authorizationUrl);
    for (let hop = 0; hop < 20; hop++) {
      if (url.href.startsWith(this.redirectUri)) return url;
      let res = await fetch(url, { redirect: 'manual', headers: { cookie: cookieHeader() } });
      keep(res);
      if (res.status === 200 && url.pathname.startsWith('/interaction/')) {
        const page = await res.text();
        const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
        const form = new URLSearchParams(prompt === 'login' ? { prompt, login: sub, password: 'any' } : { prompt: prompt ?? 'consent' });
        res = await fetch(url, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
        });
        keep(res);
      }
      const location = res.headers.get('location');
      if (!location) throw new Error(`the IdP answered ${res.status} at ${url.pathname}: ${(await res.text()).slice(0, 300)}`);
      url = new URL(location, url);
    }
    throw new Error('too many redirects at the IdP');
  }
}
