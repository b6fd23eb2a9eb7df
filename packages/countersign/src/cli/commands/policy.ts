import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, parseConfigFile, policySection, policySectionsOf } from '../../config/load.js';
import { parseDuration } from '../../lib/duration.js';
import { CsError } from '../../lib/errors.js';
import { replayPolicy } from '../../policy/replay.js';
import { type LoadedPolicy, loadPolicy } from '../../policy/store.js';
import { readTestFile, runPolicyTests } from '../../policy/test-cases.js';
import { type DataOptions, withLocalDeps } from '../context.js';
import { table } from '../output.js';
import { registerPolicyVersions } from './policy-versions.js';

/** The policy a config file (or the defaults, with none) would load; refused policies raise with every problem named. */
function policyFrom(configFile: string | undefined): LoadedPolicy {
  const config = loadConfig({ file: configFile });
  return loadPolicy(policySectionsOf(config), config.review.defaultExpiryMs);
}

export function registerPolicy(program: Command, out: (s: string) => void, err: (s: string) => void): void {
  const policy = program.command('policy').description('check, test, replay, apply and roll back policies');
  policy
    .command('check')
    .description('compile the policy and workflows in a config file; exit 2 naming every problem')
    .option('--config <file>', 'config file (YAML; default COUNTERSIGN_CONFIG)')
    .action((o: { config?: string }) => {
      const p = policyFrom(o.config);
      out(`ok: policy ${p.hash.slice(0, 12)}: ${p.compiled.rules.length} rule(s), workflows ${[...p.workflows.keys()].join(', ')}`);
    });
  policy
    .command('test <file>')
    .description('run YAML test cases (an action in, the expected effect / rule / workflow out) and print a table')
    .option('--config <file>', 'config file with the policy under test (default COUNTERSIGN_CONFIG)')
    .action((file: string, o: { config?: string }) => {
      const results = runPolicyTests(policyFrom(o.config), readTestFile(resolve(file)));
      out(
        table([
          ['RESULT', 'TEST', 'EXPECTED', 'GOT'],
          ...results.map((r) => [
            r.ok ? 'pass' : 'FAIL',
            r.name,
            r.expected,
            r.got + (r.errors.length ? ` (errors: ${r.errors.join('; ')})` : ''),
          ]),
        ]),
      );
      const failed = results.filter((r) => !r.ok).length;
      out(`${results.length - failed} passed, ${failed} failed`);
      if (failed > 0) throw new Error(`${failed} of ${results.length} policy test(s) failed`);
    });
  policy
    .command('replay')
    .description('re-decide recorded actions under a candidate policy and show what would change; writes nothing')
    .requiredOption('--policy <file>', 'candidate config file (its policy and workflows are used)')
    .option('--since <duration>', 'how far back (e.g. 24h, 7d)', '7d')
    .option('--data <dir>', 'data directory')
    .option('--config <file>', 'config file of the gateway whose actions to replay')
    .action(async (o: DataOptions & { policy: string; since: string }) => {
      const sinceMs = parseDuration(o.since);
      if (sinceMs === undefined) throw new CsError('invalid_request', `--since "${o.since}" is not a duration (use e.g. 24h, 7d)`);
      const config = loadConfig({ file: o.config });
      const file = parseConfigFile(resolve(o.policy));
      const candidate = loadPolicy({ ...policySection(file), routes: file.notifications?.routes }, config.review.defaultExpiryMs);
      const report = await withLocalDeps(o, (deps) => replayPolicy(deps.db.read, candidate, deps.clock.now() - sinceMs));
      out(
        `replayed ${report.actions} action(s) from the last ${o.since} under policy ${candidate.hash.slice(0, 12)}: ${report.unchanged} unchanged`,
      );
      if (report.changes.length === 0) return out('no decision would change');
      out(
        table([
          ['RULE', 'BEFORE', 'AFTER', 'ACTIONS', 'EXAMPLES'],
          ...report.changes.map((c) => [c.rule, c.from, c.to, String(c.count), c.examples.join(' ')]),
        ]),
      );
    });
  registerPolicyVersions(policy, out, err);
}
