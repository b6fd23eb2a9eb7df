#!/usr/bin/env node
import { CommanderError } from 'commander';
import { isCsError } from '../lib/errors.js';
import { ExitStatus, exitCode } from './exit-codes.js';
import { buildProgram } from './program.js';

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => void process.stdout.write(`${s}\n`);
  const err = (s: string) => void process.stderr.write(`${s}\n`);
  try {
    await (await buildProgram(out, err, argv)).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof ExitStatus) return e.status;
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
