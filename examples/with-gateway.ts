/**
 * Runs one example against a Countersign gateway, so each example is one command:
 *
 *   npx tsx examples/with-gateway.ts <command…>
 *
 * With COUNTERSIGN_URL and COUNTERSIGN_AGENT_KEY already set (your own gateway), the command just runs.
 * Otherwise an embedded gateway starts on a temporary SQLite data dir with one reviewer (alice) and one
 * agent (demo-agent, owned by ops@, whose read-only hints the policy trusts); its URL and keys are passed to the command as COUNTERSIGN_URL,
 * COUNTERSIGN_AGENT_KEY and COUNTERSIGN_REVIEWER_KEY, and everything is removed afterwards.
 *
 * The examples use the reviewer key to play the person who approves in the inbox, Slack or the CLI;
 * in real use that is a human, never the agent's own code.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addAgent, addUser, loadConfig, startGateway } from 'countersign';
import pino from 'pino';

const command = process.argv.slice(2);
if (command.length === 0) {
  console.error('usage: npx tsx examples/with-gateway.ts <command…>');
  process.exit(2);
}

async function embedded(): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-example-'));
  const base = loadConfig({ env: {}, overrides: { dataDir, port: 0, host: '127.0.0.1' } });
  // The examples' agent is the operator's own code, so its read-only hints are vouched for: those calls pass at once.
  const config = { ...base, policy: { ...base.policy, trust_annotations: ['demo-agent'] } };
  const gw = await startGateway(config, { logger: pino({ level: 'warn' }) });
  const admin = { type: 'admin', id: 'examples' } as const;
  await addUser(gw.deps, admin, { email: 'ops@example.com', role: 'reviewer' });
  const alice = await addUser(gw.deps, admin, { email: 'alice@example.com', role: 'reviewer' });
  const agent = await addAgent(gw.deps, admin, { name: 'demo-agent', owner: 'ops@example.com' });
  console.error(`[with-gateway] embedded gateway at ${gw.url} (data in ${dataDir})`);
  return {
    env: { COUNTERSIGN_URL: gw.url, COUNTERSIGN_AGENT_KEY: agent.apiKey, COUNTERSIGN_REVIEWER_KEY: alice.apiKey },
    async close() {
      await gw.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const own = process.env.COUNTERSIGN_URL && process.env.COUNTERSIGN_AGENT_KEY;
const gateway = own ? { env: {}, close: async () => undefined } : await embedded();
const child = spawn(command[0] as string, command.slice(1), { stdio: 'inherit', env: { ...process.env, ...gateway.env } });
const code = await new Promise<number>((resolve) => {
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  child.on('error', (e) => {
    console.error(`[with-gateway] cannot run ${command[0]}: ${e.message}`);
    resolve(127);
  });
});
await gateway.close();
process.exit(code);
