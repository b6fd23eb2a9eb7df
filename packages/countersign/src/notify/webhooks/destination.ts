import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { classifyAddress } from './address-class.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (injectable, so tests can play a DNS server that changes its answer). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export class DestinationRefused extends Error {}

/**
 * Where one request to `url` connects: the host is resolved once, and every address it resolves to must
 * be public (unless the endpoint is allowed private destinations), not merely the first: a name that
 * answers with one public and one private address could otherwise be steered to the private one. The
 * caller connects to the returned address and nothing else (see post-webhook.ts), so a DNS answer that
 * changes between this check and the connection (rebinding) changes nothing.
 */
export async function resolveDestination(url: URL, allowPrivate: boolean, resolve: Resolver): Promise<ResolvedAddress> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const literal = isIP(host);
  let addresses: ResolvedAddress[];
  if (literal !== 0) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await resolve(host);
    } catch (e) {
      throw new DestinationRefused(`could not resolve ${host}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const first = addresses[0];
  if (first === undefined) throw new DestinationRefused(`${host} resolves to no address`);
  if (!allowPrivate) {
    for (const a of addresses) {
      const verdict = classifyAddress(a.address);
      if (!verdict.public) {
        throw new DestinationRefused(`${host} resolves to ${a.address}, a ${verdict.range} address; refused (allow_private is off)`);
      }
    }
  }
  return first;
}
