import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { buildProgram, COMMAND_MODULES, MODULE_OF_COMMAND } from '../src/cli/program.js';

const quiet = () => undefined;
const namesOf = (program: Command) => program.commands.map((c) => c.name()).sort();

test('every top-level command is mapped to the module that registers it, and nothing else is mapped', async () => {
  const registered: Record<string, string> = {};
  for (const [module, load] of Object.entries(COMMAND_MODULES)) {
    const program = new Command('countersign');
    (await load())(program, quiet, quiet);
    for (const name of namesOf(program)) registered[name] = module;
  }
  assert.deepEqual(registered, MODULE_OF_COMMAND);
});

test('a known command builds only its own group; help and unknown commands build every group', async () => {
  assert.deepEqual(namesOf(await buildProgram(quiet, quiet, ['approve', 'x'])), ['approve', 'deny', 'ls', 'show', 'whoami']);
  assert.deepEqual(namesOf(await buildProgram(quiet, quiet, ['--version'])), []);
  const all = Object.keys(MODULE_OF_COMMAND).sort();
  assert.deepEqual(namesOf(await buildProgram(quiet, quiet, [])), all);
  assert.deepEqual(namesOf(await buildProgram(quiet, quiet, ['--help'])), all);
  assert.deepEqual(namesOf(await buildProgram(quiet, quiet, ['aprove'])), all);
});
