#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isCsError } from '../lib/errors.js';
import { VERSION } from '../version.js';
import { registerAdmin } from './commands/admin.js';
import { registerAudit } from './commands/audit.js';
import { registerGrants } from './commands/grants.js';
import { registerMcp } from './commands/mcp.js';
import { registerPolicy } from './commands/policy.js';
import { registerReview } from './commands/review.js';
import { registerServe } from './commands/serve.js';
import { exitCode } from './exit-codes.js';

export function buildProgram(out: (s: string) => void, err: (s: string) => void): Command {
  const program = new Command('countersign')
    .description('Human approval gateway for AI agent actions')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  registerServe(program);
  registerAdmin(program, out, err);
  registerAudit(program, out);
  registerReview(program, out);
  registerPolicy(program, out);
  registerGrants(program, out);
  registerMcp(program, out);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => void process.stdout.write(`${s}\n`);
  const err = (s: string) => void process.stderr.write(`${s}\n`);
  try {
    await buildProgram(out, err).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isCsError(e)) {
      err(`error (${e.code}): ${e.message}`);
      return exitCode(e.code);
    }
    err(`error: ${(e as Error).message}`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// serve keeps the process alive through its server; everything else ends here.
if (code !== 0 || !['serve'].includes(process.argv[2] ?? '')) process.exitCode = code;
