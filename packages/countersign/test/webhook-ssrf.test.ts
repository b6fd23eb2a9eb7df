/*
 * The webhook SSRF guard without a database: the address classifier over every refused range (IPv4,
 * IPv6 and IPv6 forms carrying an IPv4 address), the resolver answer checked whole, and the connection
 * pinned to the checked address so a DNS answer that changes afterwards cannot redirect it; over TLS, the
 * pinned connection still sends the host name (SNI) and checks the certificate against it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { classifyAddress } from '../src/notify/webhooks/address-class.js';
import { DestinationRefused, type Resolver, resolveDestination } from '../src/notify/webhooks/destination.js';
import { postWebhook } from '../src/notify/webhooks/post-webhook.js';

const refused: [string, RegExp][] = [
  ['0.0.0.0', /this network/],
  ['0.1.2.3', /this network/],
  ['10.0.0.1', /private/],
  ['10.255.255.255', /private/],
  ['100.64.0.1', /carrier-grade/],
  ['100.127.255.254', /carrier-grade/],
  ['127.0.0.1', /loopback/],
  ['127.8.9.10', /loopback/],
  ['169.254.169.254', /link-local/],
  ['169.254.0.1', /link-local/],
  ['172.16.0.1', /private/],
  ['172.31.255.255', /private/],
  ['192.168.1.1', /private/],
  ['192.0.2.5', /documentation/],
  ['198.18.0.1', /benchmarking/],
  ['224.0.0.1', /multicast/],
  ['239.255.255.250', /multicast/],
  ['240.0.0.1', /reserved/],
  ['255.255.255.255', /reserved/],
  ['::', /unspecified/],
  ['::1', /loopback/],
  ['0:0:0:0:0:0:0:1', /loopback/],
  ['fe80::1', /link-local/],
  ['fe80::1%eth0', /link-local/],
  ['febf:ffff::1', /link-local/],
  ['fc00::1', /unique-local/],
  ['fd12:3456:789a::1', /unique-local/],
  ['ff02::1', /multicast/],
  ['2001:db8::1', /documentation/],
  ['::ffff:127.0.0.1', /IPv4-mapped loopback/],
  ['::ffff:7f00:1', /IPv4-mapped loopback/],
  ['::ffff:169.254.169.254', /IPv4-mapped link-local/],
  ['::ffff:a9fe:a9fe', /IPv4-mapped link-local/],
  ['::ffff:10.1.2.3', /IPv4-mapped private/],
  ['0:0:0:0:0:ffff:c0a8:0101', /IPv4-mapped private/],
  ['::127.0.0.1', /IPv4-compatible loopback/],
  ['64:ff9b::a9fe:a9fe', /NAT64 link-local/],
  ['64:ff9b::10.0.0.1', /NAT64 private/],
  ['2002:7f00:1::', /6to4 loopback/],
  ['2002:c0a8:101::1', /6to4 private/],
  ['not-an-address', /not an IP/],
];

const allowed = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '100.63.255.255',
  '100.128.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '169.253.255.255',
  '192.169.0.1',
  '2606:4700:4700::1111',
  '2a00:1450:4001::200e',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
  '2600::1',
];

describe('the webhook address classifier', () => {
  for (const [address, range] of refused) {
    test(`${address} is refused as ${range.source}`, () => {
      const v = classifyAddress(address);
      assert.equal(v.public, false);
      assert.match(v.public ? '' : v.range, range);
    });
  }
  for (const address of allowed) {
    test(`${address} is a public address`, () => {
      assert.deepEqual(classifyAddress(address), { public: true });
    });
  }
});

describe('resolving a webhook destination', () => {
  const answering =
    (...addresses: string[]): Resolver =>
    async () =>
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const);

  test('a host name resolving to 127.0.0.1, 169.254.169.254 or 10.x is refused without allow_private', async () => {
    for (const address of ['127.0.0.1', '169.254.169.254', '10.1.2.3']) {
      await assert.rejects(resolveDestination(new URL('https://hooks.example.com/x'), false, answering(address)), DestinationRefused);
    }
  });

  test('one private address among public ones is enough to refuse', async () => {
    await assert.rejects(
      resolveDestination(new URL('https://hooks.example.com/x'), false, answering('93.184.216.34', '::ffff:169.254.169.254')),
      /169\.254\.169\.254/,
    );
  });

  test('an IP literal in the URL is checked without resolving, bracketed IPv6 included', async () => {
    const never: Resolver = async () => assert.fail('must not resolve a literal');
    await assert.rejects(resolveDestination(new URL('https://169.254.169.254/latest'), false, never), /link-local/);
    await assert.rejects(resolveDestination(new URL('https://[::ffff:127.0.0.1]/'), false, never), /loopback/);
    assert.deepEqual(await resolveDestination(new URL('https://[2606:4700:4700::1111]/'), false, never), {
      address: '2606:4700:4700::1111',
      family: 6,
    });
  });

  test('allow_private lets a private destination through', async () => {
    assert.deepEqual(await resolveDestination(new URL('http://receiver.internal/'), true, answering('10.0.0.7')), {
      address: '10.0.0.7',
      family: 4,
    });
  });

  test('a name that does not resolve is refused with the reason', async () => {
    const failing: Resolver = async () => {
      throw new Error('ENOTFOUND');
    };
    await assert.rejects(resolveDestination(new URL('https://nowhere.invalid/'), false, failing), /could not resolve nowhere\.invalid/);
  });
});

describe('the connection is pinned to the checked address', () => {
  let server: Server;
  let port = 0;
  const seen: { host: string | undefined; body: string }[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ host: req.headers.host, body });
        res.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  test('a DNS answer that changes between the check and the connection cannot redirect the request', async () => {
    // A rebinding name: the first answer (checked) is the receiver, every later one a black hole. The
    // name does not exist in real DNS either, so any second resolution would fail the request.
    let lookups = 0;
    const rebinding: Resolver = async () => {
      lookups += 1;
      return [{ address: lookups === 1 ? '127.0.0.1' : '10.255.255.1', family: 4 }];
    };
    const url = new URL(`http://rebind.countersign.invalid:${port}/hook`);
    const pinned = await resolveDestination(url, true, rebinding);
    const res = await postWebhook(url, pinned, { 'webhook-id': 'x' }, '{"a":1}', 5_000);
    assert.equal(res.status, 204);
    assert.equal(lookups, 1, 'resolved once');
    assert.equal(seen.at(-1)?.host, `rebind.countersign.invalid:${port}`, 'the Host header stays the URL host');
    assert.equal(seen.at(-1)?.body, '{"a":1}');
  });

  test('a redirect is not followed: the 3xx is the answer', async () => {
    const redirecting = createServer((_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end());
    redirecting.listen(0, '127.0.0.1');
    await once(redirecting, 'listening');
    try {
      const p = (redirecting.address() as AddressInfo).port;
      const res = await postWebhook(new URL(`http://127.0.0.1:${p}/`), { address: '127.0.0.1', family: 4 }, {}, '{}', 5_000);
      assert.equal(res.status, 302);
    } finally {
      redirecting.close();
    }
  });

  test('a receiver that does not answer in time fails the attempt', async () => {
    const silent = createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const p = (silent.address() as AddressInfo).port;
      const res = await postWebhook(new URL(`http://127.0.0.1:${p}/`), { address: '127.0.0.1', family: 4 }, {}, '{}', 200);
      assert.equal(res.status, null);
      assert.match(res.error ?? '', /no answer within 200 ms/);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});

/** Self-signed certificates for hooks.example.test and other.example.test (test/fixtures/tls, valid until 2126; test keys only). */
const tlsFixture = (name: string) => ({
  cert: readFileSync(new URL(`./fixtures/tls/${name}.crt`, import.meta.url), 'utf8'),
  key: readFileSync(new URL(`./fixtures/tls/${name}.key`, import.meta.url), 'utf8'),
});

describe('over https, the pinned connection still verifies the certificate for the host name', () => {
  const hooks = tlsFixture('hooks.example.test');
  const other = tlsFixture('other.example.test');
  const seen: { sni: string | false | null; host: string | undefined; body: string }[] = [];
  const receivers: Server[] = [];
  /** An https receiver on 127.0.0.1 presenting `cert`; records the server name the client sent and the request. */
  const receiver = async (cert: { cert: string; key: string }) => {
    const server = createHttpsServer(cert, (req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ sni: (req.socket as TLSSocket).servername, host: req.headers.host, body });
        res.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    receivers.push(server);
    return (server.address() as AddressInfo).port;
  };
  after(() => {
    for (const s of receivers) s.close();
  });
  /** DNS for these names answers 127.0.0.1 (let through by allow_private, as an admin would for a private receiver). */
  const resolver: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];

  test('https://hooks.example.test is reached at the pinned address with SNI and the certificate checked for hooks.example.test', async () => {
    const port = await receiver(hooks);
    const url = new URL(`https://hooks.example.test:${port}/hook`);
    const pinned = await resolveDestination(url, true, resolver);
    assert.equal(pinned.address, '127.0.0.1');
    const res = await postWebhook(url, pinned, { 'webhook-id': 'tls' }, '{"tls":true}', 5_000, hooks.cert);
    assert.equal(res.error, null);
    assert.equal(res.status, 204);
    assert.deepEqual(seen.at(-1), { sni: 'hooks.example.test', host: `hooks.example.test:${port}`, body: '{"tls":true}' });
  });

  test('without the CA trusted, the same receiver is refused: the certificate is verified, not skipped', async () => {
    const port = await receiver(hooks);
    const url = new URL(`https://hooks.example.test:${port}/hook`);
    const before = seen.length;
    const res = await postWebhook(url, await resolveDestination(url, true, resolver), {}, '{}', 5_000);
    assert.equal(res.status, null);
    assert.match(res.error ?? '', /self[- ]signed certificate/);
    assert.equal(seen.length, before, 'nothing was sent');
  });

  test('a trusted certificate for another name is refused: it is checked against the host name, not the address', async () => {
    const port = await receiver(other);
    const url = new URL(`https://hooks.example.test:${port}/hook`);
    const before = seen.length;
    const res = await postWebhook(url, await resolveDestination(url, true, resolver), {}, '{}', 5_000, `${hooks.cert}\n${other.cert}`);
    assert.equal(res.status, null);
    assert.match(res.error ?? '', /Hostname\/IP does not match certificate's altnames: Host: hooks\.example\.test/);
    assert.equal(seen.length, before, 'nothing was sent');
  });
});
