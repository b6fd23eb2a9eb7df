import { createRemoteJWKSet, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import { z } from 'zod';
import type { TeamsConfig } from '../../config/teams-schema.js';
import type { Clock } from '../../lib/clock.js';
import { CsError } from '../../lib/errors.js';
import { callTeams } from './http-call.js';

/** The issuer of every token the Bot Framework channel service sends a bot. */
export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';
/** The endorsement a signing key must carry for activities from Teams. */
export const TEAMS_ENDORSEMENT = 'msteams';
/** Clock skew allowed on `exp` and `nbf`, as Bot Framework's own validation allows. */
export const CLOCK_SKEW_S = 300;
/** The metadata (and so the JWKS URL) is read again after a day, as Bot Framework asks. */
const METADATA_TTL_MS = 24 * 3_600_000;

const Metadata = z.object({ jwks_uri: z.url().max(2000) });
type RemoteKeys = ReturnType<typeof createRemoteJWKSet>;

/**
 * Checks the Bot Framework JWT of an inbound activity (the Connector authenticates to the bot):
 * signed (RS256) by a key from the OpenID metadata's jwks_uri (jose's remote JWK set caches the keys and
 * re-reads them, with a cool-down, for a key id it has not seen), issued by api.botframework.com, for this
 * bot's app id, not expired (5 min skew, on the injected clock), with a `serviceUrl` claim equal to the
 * activity's, and signed by a key endorsed for `msteams`. Anything else is `unauthenticated` (401).
 */
export class BotTokenVerifier {
  private keys: { set: RemoteKeys; until: number; uri: string } | undefined;
  private loading: Promise<RemoteKeys> | undefined;

  constructor(
    private readonly cfg: TeamsConfig,
    private readonly clock: Clock,
  ) {}

  async verify(authorization: string | undefined, serviceUrl: string): Promise<JWTPayload> {
    const token = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization ?? '')?.[1];
    if (!token) throw refused('a Bot Framework bearer token is required');
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw refused('the token is not a JWT');
    }
    const set = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, set, {
        issuer: BOT_FRAMEWORK_ISSUER,
        audience: this.cfg.app_id,
        algorithms: ['RS256'],
        clockTolerance: CLOCK_SKEW_S,
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['exp'],
      }));
    } catch (e) {
      if (e instanceof errors.JOSEError) throw refused(`the token was refused (${e.code})`);
      throw e;
    }
    const jwk = set.jwks()?.keys.find((k) => k.kid === kid) as { endorsements?: unknown } | undefined;
    const endorsements = Array.isArray(jwk?.endorsements) ? jwk.endorsements : [];
    if (!endorsements.includes(TEAMS_ENDORSEMENT)) throw refused('the signing key is not endorsed for Microsoft Teams');
    if (payload.serviceUrl !== serviceUrl) throw refused("the token's serviceUrl is not the activity's");
    return payload;
  }

  private async keySet(): Promise<RemoteKeys> {
    if (this.keys && this.clock.now() < this.keys.until) return this.keys.set;
    this.loading ??= this.loadKeySet().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async loadKeySet(): Promise<RemoteKeys> {
    let uri: string;
    try {
      const parsed = Metadata.safeParse(await callTeams(this.cfg.openid_metadata_url, { method: 'GET' }, this.cfg.timeout));
      if (!parsed.success) throw new Error('no jwks_uri');
      uri = parsed.data.jwks_uri;
    } catch (e) {
      // Keep checking with the keys we had: a metadata outage must not stop every activity.
      if (this.keys) return this.keys.set;
      throw new CsError('unavailable', `could not read the Bot Framework OpenID metadata: ${e instanceof Error ? e.message : String(e)}`);
    }
    const set = this.keys?.uri === uri ? this.keys.set : createRemoteJWKSet(new URL(uri), { timeoutDuration: this.cfg.timeout });
    this.keys = { set, uri, until: this.clock.now() + METADATA_TTL_MS };
    return set;
  }
}

function refused(why: string): CsError {
  return new CsError('unauthenticated', why);
}
