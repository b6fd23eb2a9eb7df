import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseInput } from '../domain/validate.js';
import { CsError } from '../lib/errors.js';
import { type PolicyInput, withAnnotationDefaults } from './cel-env.js';
import { evaluatePolicy } from './evaluate.js';
import { EFFECTS } from './schema.js';
import type { LoadedPolicy } from './store.js';

const Obj = z.record(z.string(), z.unknown());

const TestCase = z.strictObject({
  name: z.string().min(1),
  action: z.strictObject({
    tool: z.string().min(1),
    arguments: Obj.default({}),
    resource: z.string().nullable().default(null),
    annotations: Obj.default({}),
    agent: z
      .strictObject({
        name: z.string().default('test-agent'),
        owner: z.string().default(''),
        labels: z.record(z.string(), z.string()).default({}),
      })
      .default({ name: 'test-agent', owner: '', labels: {} }),
    on_behalf_of: z.string().nullable().default(null),
    session_id: z.string().nullable().default(null),
    purpose: z.string().nullable().default(null),
    metadata: Obj.default({}),
    now: z.iso.datetime().optional(),
  }),
  expect: z
    .strictObject({ effect: z.enum(EFFECTS).optional(), rule: z.string().optional(), workflow: z.string().nullable().optional() })
    .refine((e) => Object.keys(e).length > 0, 'expect names at least one of effect, rule, workflow'),
});

export const TestFile = z.strictObject({ tests: z.array(TestCase).min(1) });
export type TestFile = z.infer<typeof TestFile>;

export interface CaseResult {
  name: string;
  ok: boolean;
  expected: string;
  got: string;
  errors: string[];
}

export function readTestFile(path: string): TestFile {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CsError('invalid_request', `cannot read policy tests from ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseInput(TestFile, raw, `policy tests in ${path}`);
}

const show = (o: { effect?: string; rule?: string; workflow?: string | null }) =>
  [o.effect, o.rule === undefined ? undefined : `rule ${o.rule}`, o.workflow ? `workflow ${o.workflow}` : undefined]
    .filter(Boolean)
    .join(', ');

/** Runs each case through the policy exactly as the gateway would decide it. */
export function runPolicyTests(policy: LoadedPolicy, file: TestFile, now = Date.now()): CaseResult[] {
  return file.tests.map((t) => {
    const input: PolicyInput = {
      ...t.action,
      annotations: withAnnotationDefaults(t.action.annotations),
      annotations_trusted: policy.compiled.trustsAnnotations(t.action.agent.name, t.action.resource),
      now: new Date(t.action.now ?? now),
    };
    const d = evaluatePolicy(policy.compiled, input);
    const e = t.expect;
    const ok =
      (e.effect === undefined || e.effect === d.effect) &&
      (e.rule === undefined || e.rule === d.rule) &&
      (e.workflow === undefined || e.workflow === d.workflow);
    const got = {
      effect: d.effect,
      ...(e.rule !== undefined ? { rule: d.rule } : {}),
      ...(e.workflow !== undefined ? { workflow: d.workflow } : {}),
    };
    return { name: t.name, ok, expected: show(e), got: show(got), errors: d.errors.map((x) => `${x.rule}: ${x.message}`) };
  });
}
