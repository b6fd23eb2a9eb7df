import { isIPv4, isIPv6 } from 'node:net';

/**
 * Whether a webhook may be sent to an IP address: only to public unicast addresses, unless the endpoint
 * is allowed private destinations. Anything else (loopback, RFC 1918, link-local with the cloud metadata
 * address 169.254.169.254, CGNAT, unique-local, multicast, "this network", documentation and benchmark
 * ranges, reserved space) is refused with the name of the range, so an agent-triggered event can never
 * make the gateway call into its own network (SSRF). IPv6 forms that carry an IPv4 address (mapped
 * ::ffff:a.b.c.d, the deprecated compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by
 * the IPv4 address inside, so a private address cannot hide in one.
 */
export type AddressVerdict = { public: true } | { public: false; range: string };

type V4Range = readonly [prefix: readonly number[], bits: number, name: string];

const V4_BLOCKED: readonly V4Range[] = [
  [[0, 0, 0, 0], 8, 'this network (0.0.0.0/8)'],
  [[10, 0, 0, 0], 8, 'private (10.0.0.0/8)'],
  [[100, 64, 0, 0], 10, 'carrier-grade NAT (100.64.0.0/10)'],
  [[127, 0, 0, 0], 8, 'loopback (127.0.0.0/8)'],
  [[169, 254, 0, 0], 16, 'link-local (169.254.0.0/16)'],
  [[172, 16, 0, 0], 12, 'private (172.16.0.0/12)'],
  [[192, 0, 0, 0], 24, 'IETF protocol assignments (192.0.0.0/24)'],
  [[192, 0, 2, 0], 24, 'documentation (192.0.2.0/24)'],
  [[192, 88, 99, 0], 24, '6to4 relay anycast (192.88.99.0/24)'],
  [[192, 168, 0, 0], 16, 'private (192.168.0.0/16)'],
  [[198, 18, 0, 0], 15, 'benchmarking (198.18.0.0/15)'],
  [[198, 51, 100, 0], 24, 'documentation (198.51.100.0/24)'],
  [[203, 0, 113, 0], 24, 'documentation (203.0.113.0/24)'],
  [[224, 0, 0, 0], 4, 'multicast (224.0.0.0/4)'],
  [[240, 0, 0, 0], 4, 'reserved (240.0.0.0/4, broadcast)'],
];

const V6_BLOCKED: readonly [prefix: readonly number[], bits: number, name: string][] = [
  [[0xfe, 0x80], 10, 'link-local (fe80::/10)'],
  [[0xfe, 0xc0], 10, 'site-local (fec0::/10)'],
  [[0xfc, 0x00], 7, 'unique-local (fc00::/7)'],
  [[0xff, 0x00], 8, 'multicast (ff00::/8)'],
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'discard (100::/64)'],
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation (2001:db8::/32)'],
  [[0x20, 0x01, 0x00, 0x00], 23, 'IETF protocol assignments (2001::/23)'],
];

export function classifyAddress(address: string): AddressVerdict {
  if (isIPv4(address)) return classifyV4(v4Bytes(address));
  if (isIPv6(address)) return classifyV6(v6Bytes(address));
  return { public: false, range: 'not an IP address' };
}

function classifyV4(b: readonly number[]): AddressVerdict {
  for (const [prefix, bits, name] of V4_BLOCKED) if (inPrefix(b, prefix, bits)) return { public: false, range: name };
  return { public: true };
}

function classifyV6(b: readonly number[]): AddressVerdict {
  const zeros = (n: number) => b.slice(0, n).every((x) => x === 0);
  if (zeros(16)) return { public: false, range: 'unspecified (::)' };
  if (zeros(15) && b[15] === 1) return { public: false, range: 'loopback (::1)' };
  const inner = (from: number) => classifyV4(b.slice(from, from + 4));
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): the IPv4 address is what is reached.
  if (zeros(10) && b[10] === 0xff && b[11] === 0xff) return embedded('IPv4-mapped', inner(12));
  if (zeros(12)) return embedded('IPv4-compatible', inner(12));
  // NAT64 well-known prefix 64:ff9b::/96 and 6to4 2002:aabb:ccdd::/48 translate to an IPv4 address.
  if (inPrefix(b, [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96)) return embedded('NAT64', inner(12));
  if (b[0] === 0x20 && b[1] === 0x02) return embedded('6to4', inner(2));
  for (const [prefix, bits, name] of V6_BLOCKED) if (inPrefix(b, prefix, bits)) return { public: false, range: name };
  return { public: true };
}

function embedded(form: string, v: AddressVerdict): AddressVerdict {
  return v.public ? v : { public: false, range: `${form} ${v.range}` };
}

function inPrefix(b: readonly number[], prefix: readonly number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if (((b[byte] ?? 0) & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

function v4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** The 16 bytes of an IPv6 address (already checked by isIPv6), with "::", a zone id and a dotted IPv4 tail handled. */
function v6Bytes(address: string): number[] {
  const bare = address.split('%')[0] ?? '';
  const [head, tail] = bare.includes('::') ? (bare.split('::') as [string, string]) : [bare, undefined];
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = v4Bytes(g);
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}
