import * as client from 'openid-client';
import type { OidcConfig } from '../../../config/oidc-schema.js';
import type { Clock } from '../../../lib/clock.js';
import { CsError } from '../../../lib/errors.js';

/** How long the IdP's discovery document is trusted before it is read again (key rotation is handled by JWKS). */
const METADATA_TTL_MS = 3_600_000;
const HTTP_TIMEOUT_S = 10;

/**
 * The gateway as an OpenID Connect relying party (openid-client v6: Authorization Code + PKCE, ID-token
 * validation of issuer, audience, expiry, nonce and signature against the IdP's JWKS).
 *
 * The IdP's metadata is read on first use rather than at start-up, so a gateway whose IdP is briefly down
 * still starts and serves agents; a failed read is retried on the next sign-in. Each sign-in gets its own
 * `Configuration` carrying the injected clock's offset from the system clock (`clockSkew`), so expiry and
 * `auth_time` are judged on `deps.clock` like every other deadline here; the JWKS cache is shared.
 */
export class OidcRelyingParty {
  private metadata: { value: client.ServerMetadata; at: number } | undefined;
  private jwksCache: client.ExportedJWKSCache | undefined;

  constructor(
    readonly config: OidcConfig,
    private readonly clock: Clock,
  ) {}

  /** A configuration for one sign-in, its time set to the injected clock. */
  async configuration(): Promise<client.Configuration> {
    const server = await this.serverMetadata();
    const skew = Math.floor(this.clock.now() / 1000) - Math.floor(Date.now() / 1000);
    const secret = this.config.clientSecret;
    const config = new client.Configuration(
      server,
      this.config.clientId,
      { [client.clockSkew]: skew, redirect_uris: [this.config.redirectUri], response_types: ['code'] },
      secret ? client.ClientSecretBasic(secret.reveal()) : client.None(),
    );
    config.timeout = HTTP_TIMEOUT_S;
    if (isLoopback(this.config.issuer)) client.allowInsecureRequests(config);
    // openid-client trusts an ID token from the token endpoint on TLS alone (OIDC Core 3.1.3.7 allows it);
    // we check its signature against the IdP's JWKS too, so a token is proof whatever carried it.
    client.enableNonRepudiationChecks(config);
    if (this.jwksCache) client.setJwksCache(config, this.jwksCache);
    return config;
  }

  /** Keeps the IdP keys fetched while validating a token for the next sign-in. */
  remember(config: client.Configuration): void {
    this.jwksCache = client.getJwksCache(config) ?? this.jwksCache;
  }

  private async serverMetadata(): Promise<client.ServerMetadata> {
    const now = this.clock.now();
    if (this.metadata && now - this.metadata.at < METADATA_TTL_MS) return this.metadata.value;
    try {
      const discovered = await client.discovery(new URL(this.config.issuer), this.config.clientId, undefined, undefined, {
        timeout: HTTP_TIMEOUT_S,
        ...(isLoopback(this.config.issuer) ? { execute: [client.allowInsecureRequests] } : {}),
      });
      this.metadata = { value: discovered.serverMetadata(), at: now };
      return this.metadata.value;
    } catch (e) {
      throw new CsError(
        'unavailable',
        `cannot read the identity provider's configuration at ${this.config.issuer}: ${(e as Error).message}`,
      );
    }
  }
}

/**
 * Plain HTTP to the IdP is allowed only when it runs on this machine (a development or test IdP): tokens and
 * the client secret never cross a network unencrypted.
 */
function isLoopback(issuer: string): boolean {
  const host = new URL(issuer).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
