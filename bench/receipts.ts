/**
 * Receipts micro-benchmark: how many approval receipts the gateway signs per second (the work
 * added to every approval), and how many an executor verifies per second offline with only the
 * JWKS. Pure CPU, in process, no database. See bench/README.md.
 *
 *   node --import tsx bench/receipts.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyReceipt } from '@countersign/sdk/receipts';
import { loadConfig } from '../packages/countersign/src/config/load.js';
import { loadOrCreateKeyring } from '../packages/countersign/src/crypto/keyring.js';
import type { Tx } from '../packages/countersign/src/db/committer.js';
import type { ActionsTable } from '../packages/countersign/src/db/types.js';
import { issueReceipt } from '../packages/countersign/src/domain/receipts/issue-receipt.js';

const N = Number(process.env.BENCH_RECEIPTS_N ?? 20_000);

const dir = mkdtempSync(join(tmpdir(), 'cs-bench-receipts-'));
try {
  const config = loadConfig({ env: {}, overrides: { dataDir: dir } });
  const { keyring } = await loadOrCreateKeyring(config.signing.keyringFile, new Date());
  const jwks = { keys: keyring.keys.map((k) => k.publicJwk) };
  const row = {
    id: '019a0000-0000-7000-8000-000000000001',
    agent_id: '019a0000-0000-7000-8000-0000000000aa',
    tool: 'deploy',
    arguments: JSON.stringify({ service: 'api', env: 'production', version: '1.4.2', replicas: 6, flags: ['--canary', '--wait'] }),
    resource: 'k8s://prod/api',
    policy: JSON.stringify({ rule: 'prod-deploys', hash: 'a'.repeat(64) }),
  } as ActionsTable;
  // issueReceipt reads only the transaction's time.
  const tx = { now: Date.now() } as Tx;
  const by = { type: 'user', id: 'u1', label: 'alice@example.com' } as const;

  const tokens: string[] = [];
  for (let i = 0; i < 500; i++) tokens.push((await issueReceipt(tx, { keyring, config }, row, by, ['alice@example.com'])).fields.receipt);
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++)
    tokens[i % 500] = (await issueReceipt(tx, { keyring, config }, row, by, ['alice@example.com'])).fields.receipt;
  const signNs = Number(process.hrtime.bigint() - t0);

  const action = { id: row.id, agent: row.agent_id, tool: row.tool, arguments: JSON.parse(row.arguments), resource: row.resource };
  for (let i = 0; i < 500; i++) await verifyReceipt(tokens[i] as string, action, jwks);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await verifyReceipt(tokens[i % 500] as string, action, jwks);
  const verifyNs = Number(process.hrtime.bigint() - t0);

  const fmt = (ns: number) => `${Math.round((N / ns) * 1e9).toLocaleString('en-US')}/s  (${(ns / N / 1000).toFixed(1)} µs each)`;
  console.log(`\nReceipts (Ed25519 / EdDSA JWS, ${tokens[0]?.length} bytes), ${N.toLocaleString('en-US')} each, one core:`);
  console.log(`  issued (sign + canonical action hash):            ${fmt(signNs)}`);
  console.log(`  verified offline (JWKS, signature, claims, hash): ${fmt(verifyNs)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
