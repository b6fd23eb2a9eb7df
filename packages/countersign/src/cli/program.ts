import { Command } from 'commander';
import { VERSION } from '../version.js';

type Out = (s: string) => void;
type Register = (program: Command, out: Out, err: Out) => void;

/**
 * Each command group's module, loaded only when it runs: the server side (Fastify, both database
 * drivers, the MCP SDK) takes most of a second to import, and `countersign approve` needs none of it.
 */
export const COMMAND_MODULES: Record<string, () => Promise<Register>> = {
  serve: async () => (await import('./commands/serve.js')).registerServe,
  admin: async () => (await import('./commands/admin.js')).registerAdmin,
  audit: async () => (await import('./commands/audit.js')).registerAudit,
  events: async () => (await import('./commands/events.js')).registerEvents,
  notify: async () => (await import('./commands/notify.js')).registerNotify,
  webhooks: async () => (await import('./commands/webhooks.js')).registerWebhooks,
  review: async () => (await import('./commands/review.js')).registerReview,
  policy: async () => (await import('./commands/policy.js')).registerPolicy,
  grants: async () => (await import('./commands/grants.js')).registerGrants,
  mcp: async () => (await import('./commands/mcp.js')).registerMcp,
  propose: async () => (await import('./commands/propose.js')).registerPropose,
  backup: async () => (await import('./commands/backup.js')).registerBackup,
};

/** Which module registers each top-level command (a test checks this against what the modules register). */
export const MODULE_OF_COMMAND: Record<string, keyof typeof COMMAND_MODULES> = {
  serve: 'serve',
  users: 'admin',
  agents: 'admin',
  keys: 'admin',
  groups: 'admin',
  'signing-keys': 'admin',
  audit: 'audit',
  events: 'events',
  notify: 'notify',
  webhooks: 'webhooks',
  ls: 'review',
  show: 'review',
  approve: 'review',
  deny: 'review',
  whoami: 'review',
  policy: 'policy',
  grants: 'grants',
  mcp: 'mcp',
  propose: 'propose',
  backup: 'backup',
  restore: 'backup',
};

/** The program with the commands `argv` can reach: one group for a known command, none for --version, all of them for help or a typo. */
export async function buildProgram(out: Out, err: Out, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('countersign')
    .description('Human approval gateway for AI agent actions')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  const first = argv[0];
  if (first === '--version' || first === '-V') return program;
  const only = first === undefined ? undefined : MODULE_OF_COMMAND[first];
  const groups = only === undefined ? Object.values(COMMAND_MODULES) : [COMMAND_MODULES[only] as () => Promise<Register>];
  for (const register of await Promise.all(groups.map((load) => load()))) register(program, out, err);
  return program;
}
