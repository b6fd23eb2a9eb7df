import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { CsError } from '../src/lib/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'cs-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function refusal(fn: () => unknown): CsError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CsError, `expected a CsError, got ${e}`);
    return e;
  }
  assert.fail('expected the config to be refused');
}

test('with no file and no environment the gateway uses SQLite under ./.countersign on port 8700 with a 1 h expiry', () => {
  const c = loadConfig({ env: {}, cwd: '/srv/app' });
  assert.equal(c.dataDir, '/srv/app/.countersign');
  assert.equal(c.database.url, 'sqlite:/srv/app/.countersign/countersign.db');
  assert.equal(c.server.port, 8700);
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.review.defaultExpiryMs, 3_600_000);
  assert.equal(c.server.bodyLimitBytes, 1024 * 1024);
  assert.equal(c.limits.reasonBytes, 4096);
});

test('a YAML file sets values; durations are written as text', () => {
  const p = file('ok.yaml', 'data_dir: /var/lib/cs\nserver:\n  port: 9000\nreview:\n  default_expiry: 15m\nlimits:\n  reason_bytes: 100\n');
  const c = loadConfig({ file: p, env: {} });
  assert.equal(c.dataDir, '/var/lib/cs');
  assert.equal(c.server.port, 9000);
  assert.equal(c.review.defaultExpiryMs, 15 * 60_000);
  assert.equal(c.limits.reasonBytes, 100);
});

test('environment variables override the file and flags override both', () => {
  const p = file('env.yaml', 'server:\n  port: 9000\ndatabase:\n  url: sqlite:/tmp/x.db\n');
  const env = { COUNTERSIGN_PORT: '9100', COUNTERSIGN_DATABASE_URL: 'postgres://db/cs' };
  assert.equal(loadConfig({ file: p, env }).server.port, 9100);
  assert.equal(loadConfig({ file: p, env }).database.url, 'postgres://db/cs');
  assert.equal(loadConfig({ file: p, env, overrides: { port: 9200 } }).server.port, 9200);
});

test('an unknown key is refused with its path', () => {
  const e = refusal(() => loadConfig({ file: file('unknown.yaml', 'server:\n  prot: 80\n'), env: {} }));
  assert.equal(e.code, 'invalid_request');
  assert.match(e.message, /server/);
  assert.match(e.message, /prot/);
});

test('a wrong type is refused, not coerced', () => {
  const e = refusal(() => loadConfig({ file: file('type.yaml', 'server:\n  port: "8700"\n'), env: {} }));
  assert.ok(e.issues?.some((i) => i.path === 'server.port'));
});

test('a bad duration names the key and the value', () => {
  const e = refusal(() => loadConfig({ file: file('dur.yaml', 'review:\n  default_expiry: soon\n'), env: {} }));
  assert.ok(e.issues?.some((i) => i.path === 'review.default_expiry' && i.message.includes('soon')));
});

test('invalid YAML is refused with its line', () => {
  const e = refusal(() => loadConfig({ file: file('bad.yaml', 'server:\n  port: [1,\n'), env: {} }));
  assert.match(e.message, /not valid YAML/);
  assert.match(e.message, /line/);
});

test('a missing file is a clear error', () => {
  const e = refusal(() => loadConfig({ file: join(dir, 'nope.yaml'), env: {} }));
  assert.match(e.message, /cannot read config file/);
});

test('a non-numeric port in the environment is refused', () => {
  const e = refusal(() => loadConfig({ env: { COUNTERSIGN_PORT: 'eighty' } }));
  assert.match(e.message, /COUNTERSIGN_PORT/);
});
