import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import {
  type CompiledPolicy,
  ConditionError,
  compileCondition,
  compilePolicy,
  evaluatePolicy,
  evaluatePolicyUnindexed,
  PolicyError,
  type PolicyInput,
  ShellParseError,
  shellCommands,
  withAnnotationDefaults,
} from '../src/policy/index.js';
import { type PolicyConfig, PolicySchema } from '../src/policy/schema.js';

const WORKFLOWS = new Set(['default', 'two-sres']);

const EXAMPLE_YAML = `
policy:
  default: review
  rules:
    - name: reads-pass
      when: annotations.readOnlyHint == true
      effect: allow
    - name: no-rm
      when: tool == "shell" && shell_commands(arguments.command).exists(c, c.name == "rm")
      effect: deny
      reason: rm is never run by agents
    - name: prod-deploys
      when: tool == "deploy" && arguments.env == "production"
      effect: review
      workflow: two-sres
`;

function policyOf(yamlOrConfig: string | object, workflows: ReadonlySet<string> = WORKFLOWS): CompiledPolicy {
  const raw = typeof yamlOrConfig === 'string' ? (parseYaml(yamlOrConfig) as { policy: unknown }).policy : yamlOrConfig;
  const parsed = PolicySchema.parse(raw);
  return compilePolicy({ ...parsed, rules: parsed.rules ?? [] }, { workflows });
}

function rules(...list: [name: string, when: string, effect: 'allow' | 'deny' | 'review'][]): PolicyConfig['rules'] {
  return list.map(([name, when, effect]) => ({ name, when, effect }));
}

function action(over: Partial<PolicyInput> = {}): PolicyInput {
  return {
    tool: 'shell',
    arguments: {},
    resource: null,
    annotations: withAnnotationDefaults({}),
    annotations_trusted: false,
    agent: { name: 'builder', owner: 'owner@example.com', labels: { team: 'red' } },
    on_behalf_of: null,
    session_id: null,
    purpose: null,
    metadata: {},
    now: new Date('2026-01-05T10:00:00Z'),
    ...over,
  };
}

function refusal(fn: () => unknown): PolicyError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PolicyError) return e;
    throw e;
  }
  assert.fail('the policy was accepted');
}

const example = policyOf(EXAMPLE_YAML);

test('the example policy allows reads, denies rm, and sends production deploys to two SREs', () => {
  const read = evaluatePolicy(example, action({ tool: 'read_file', annotations: withAnnotationDefaults({ readOnlyHint: true }) }));
  assert.deepEqual(read, { effect: 'allow', rule: 'reads-pass', workflow: null, reason: null, errors: [] });

  const rm = evaluatePolicy(example, action({ arguments: { command: 'rm -rf /tmp/x' } }));
  assert.deepEqual(rm, { effect: 'deny', rule: 'no-rm', workflow: null, reason: 'rm is never run by agents', errors: [] });

  const prod = evaluatePolicy(example, action({ tool: 'deploy', arguments: { env: 'production' } }));
  assert.deepEqual(prod, { effect: 'review', rule: 'prod-deploys', workflow: 'two-sres', reason: null, errors: [] });

  for (const a of [action({ arguments: { command: 'ls -la' } }), action({ tool: 'deploy', arguments: { env: 'staging' } })]) {
    assert.deepEqual(evaluatePolicy(example, a), { effect: 'review', rule: 'default', workflow: 'default', reason: null, errors: [] });
  }
});

test('an action that sends no annotations is not an evaluation error for the read-only rule', () => {
  const d = evaluatePolicy(example, action({ tool: 'send_email', arguments: { to: 'x@example.com' } }));
  assert.equal(d.rule, 'default');
  assert.deepEqual(d.errors, []);
  assert.deepEqual(withAnnotationDefaults({ destructiveHint: false }), {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  });
});

for (const command of [
  'npm test && rm -rf /',
  'ls | xargs rm',
  'echo $(rm -rf /)',
  'bash -c "rm -rf /"',
  '(cd /; rm -rf x)',
  'sudo rm x',
  '/bin/rm x',
  '`rm x`',
  'if true; then rm x; fi',
  'echo "files: $(rm -rf ~)"',
  'diff <(rm a) b',
  'f() { rm x; }; f',
  'env A=1 timeout -s KILL 5 nice -n 3 rm x',
  'sh -c \'bash -c "rm x"\'',
  'eval "rm -rf /"',
  'find . -name "*.log" -exec rm {} \\;',
  'sh <<< "rm -rf /"',
  'for f in *; do rm "$f"; done',
  'true || { rm x; }',
]) {
  test(`a rule on rm catches ${JSON.stringify(command)}`, () => {
    const d = evaluatePolicy(example, action({ arguments: { command } }));
    assert.equal(d.effect, 'deny');
    assert.equal(d.rule, 'no-rm');
  });
}

for (const command of ['echo rm', 'grep -rn "rm -rf" .', 'git rm --cached x', "echo '$(rm -rf /)'", "cat <<'EOF'\nrm x\nEOF"]) {
  test(`a rule on rm leaves ${JSON.stringify(command)} alone`, () => {
    const d = evaluatePolicy(example, action({ arguments: { command } }));
    assert.deepEqual([d.effect, d.rule, d.errors], ['review', 'default', []]);
  });
}

test('shell_commands keeps the written path, strips the directory from the name, and marks dynamic names', () => {
  assert.deepEqual(shellCommands('/bin/rm -rf "a b"'), [{ name: 'rm', path: '/bin/rm', args: ['-rf', 'a b'] }]);
  assert.deepEqual(shellCommands('"r"m x'), [{ name: 'rm', path: 'rm', args: ['x'] }]);
  assert.deepEqual(shellCommands('$CMD "$X"'), [{ name: '<dynamic>', path: '$CMD', args: ['"$X"'] }]);
  assert.deepEqual(
    shellCommands('$(echo rm) -rf /').map((c) => c.name),
    ['<dynamic>', 'echo'],
  );
  // A string run again as a script but only known at run time is dynamic code as well.
  assert.ok(shellCommands('bash -c "$SCRIPT"').some((c) => c.name === '<dynamic>'));
  const dynamicRule = policyOf({
    rules: rules(['no-dynamic', 'shell_commands(arguments.command).exists(c, c.name == "<dynamic>")', 'deny']),
  });
  assert.equal(evaluatePolicy(dynamicRule, action({ arguments: { command: '$(echo rm) -rf /' } })).effect, 'deny');
});

test('an unparseable, oversized or too deeply nested shell command is a parse error', () => {
  assert.throws(() => shellCommands('echo "unterminated'), ShellParseError);
  assert.throws(() => shellCommands('if true; then'), ShellParseError);
  assert.throws(() => shellCommands(`echo ${'x'.repeat(64 * 1024)}`), ShellParseError);
  let nested = 'rm x';
  for (let i = 0; i < 12; i++) nested = `bash -c ${JSON.stringify(nested)}`;
  assert.throws(() => shellCommands(nested), ShellParseError);
});

test('an unparseable command goes to review, even when a later rule would allow it', () => {
  const d = evaluatePolicy(example, action({ arguments: { command: 'rm "unterminated' } }));
  assert.equal(d.effect, 'review');
  assert.equal(d.workflow, 'default');
  assert.deepEqual(
    d.errors.map((e) => e.rule),
    ['no-rm'],
  );
  assert.match(d.errors[0]?.message ?? '', /unparseable shell command/);

  const permissive = policyOf({
    default: 'allow',
    rules: rules(
      ['no-rm', 'shell_commands(arguments.command).exists(c, c.name == "rm")', 'deny'],
      ['shell-ok', 'tool == "shell"', 'allow'],
    ),
  });
  const d2 = evaluatePolicy(permissive, action({ arguments: { command: 'echo $(' } }));
  assert.equal(d2.effect, 'review');
  assert.equal(d2.rule, 'shell-ok');
  assert.equal(d2.workflow, 'default');
});

test('a syntax error refuses the whole policy, naming the rule and the position', () => {
  const e = refusal(() => policyOf({ rules: rules(['fine', 'true', 'allow'], ['broken', 'tool == "a" &&\n  arguments.x ==', 'deny']) }));
  assert.equal(e.issues.length, 1);
  assert.deepEqual({ ...e.issues[0], message: undefined }, { rule: 'broken', path: 'when', message: undefined, line: 2, column: 17 });
  assert.match(e.message, /rule "broken" when \(line 2, column 17\)/);
});

test('a type error refuses the whole policy, naming the rule and the position', () => {
  const e = refusal(() => policyOf({ rules: rules(['typed', 'tool == "x" && arguments.n > 1 && tool + 1 == 2', 'deny']) }));
  assert.equal(e.issues[0]?.rule, 'typed');
  assert.match(e.issues[0]?.message ?? '', /no such overload: string \+ int/);
  assert.deepEqual([e.issues[0]?.line, e.issues[0]?.column], [1, 35]);
  const notBool = refusal(() => policyOf({ rules: rules(['text', 'tool', 'allow']) }));
  assert.match(notBool.issues[0]?.message ?? '', /must be a bool/);
});

test('an unknown variable refuses the policy', () => {
  const e = refusal(() => policyOf({ rules: rules(['typo', 'tool == "x" && argument.env == "prod"', 'deny']) }));
  assert.equal(e.issues[0]?.rule, 'typo');
  assert.match(e.issues[0]?.message ?? '', /Unknown variable: argument/);
  assert.equal(e.issues[0]?.column, 16);
});

test('duplicate rule names, a rule named default, and workflows that do not apply or do not exist are all refused together', () => {
  const e = refusal(() =>
    policyOf({
      rules: [
        { name: 'a', when: 'true', effect: 'deny' },
        { name: 'a', when: 'false', effect: 'deny' },
        { name: 'default', when: 'false', effect: 'deny' },
        { name: 'b', when: 'true', effect: 'allow', workflow: 'two-sres' },
        { name: 'c', when: 'true', effect: 'review', workflow: 'three-sres' },
      ],
    }),
  );
  assert.deepEqual(
    e.issues.map((i) => `${i.rule}.${i.path}`),
    ['a.name', 'default.name', 'b.workflow', 'c.workflow'],
  );
  assert.match(e.message, /workflow "three-sres" is not defined \(defined: default, two-sres\)/);
});

test('a review without a named workflow needs the default workflow to exist', () => {
  const e = refusal(() => policyOf({ default: 'deny', rules: rules(['r', 'true', 'review']) }, new Set(['two-sres'])));
  assert.deepEqual(
    e.issues.map((i) => `${i.rule}.${i.path}`),
    ['r.workflow'],
  );
  const d = refusal(() => policyOf({ default: 'review', rules: [] }, new Set()));
  assert.deepEqual(
    d.issues.map((i) => `${i.rule}.${i.path}`),
    ['default.default'],
  );
});

test('evaluation errors never allow: a missing arguments.env before an allow rule gives review, with the error recorded', () => {
  const p = policyOf({ default: 'allow', rules: rules(['prod', 'arguments.env == "production"', 'review'], ['rest', 'true', 'allow']) });
  const d = evaluatePolicy(p, action({ tool: 'deploy', arguments: {} }));
  assert.equal(d.effect, 'review');
  assert.equal(d.rule, 'rest');
  assert.equal(d.workflow, 'default');
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]?.rule, 'prod');
  assert.match(d.errors[0]?.message ?? '', /No such key: env/);
  assert.match(d.reason ?? '', /prod/);

  const noMatch = policyOf({ default: 'allow', rules: rules(['prod', 'arguments.env == "production"', 'deny']) });
  const d2 = evaluatePolicy(noMatch, action({ tool: 'deploy' }));
  assert.deepEqual([d2.effect, d2.rule, d2.workflow], ['review', 'default', 'default']);
});

test('a later deny still denies after an evaluation error, and a later review stays review', () => {
  const p = policyOf({
    default: 'allow',
    rules: [
      { name: 'broken', when: 'arguments.n + 1 > 2', effect: 'allow' },
      { name: 'deny-x', when: 'tool == "x"', effect: 'deny', reason: 'no x' },
      { name: 'review-y', when: 'tool == "y"', effect: 'review', workflow: 'two-sres' },
    ],
  });
  const x = evaluatePolicy(p, action({ tool: 'x', arguments: { n: 5 } }));
  assert.deepEqual([x.effect, x.rule, x.reason, x.errors.length], ['deny', 'deny-x', 'no x', 1]);
  const y = evaluatePolicy(p, action({ tool: 'y', arguments: { n: 5 } }));
  assert.deepEqual([y.effect, y.rule, y.workflow, y.errors.length], ['review', 'review-y', 'two-sres', 1]);
  const deny = policyOf({ default: 'deny', rules: rules(['broken', 'arguments.missing', 'allow']) });
  assert.deepEqual([evaluatePolicy(deny, action()).effect, evaluatePolicy(deny, action()).errors.length], ['deny', 1]);
});

test('the default applies when no rule matches', () => {
  for (const effect of ['allow', 'deny', 'review'] as const) {
    const p = policyOf({ default: effect, rules: rules(['never', 'tool == "nothing"', 'deny']) });
    const d = evaluatePolicy(p, action());
    assert.deepEqual(d, { effect, rule: 'default', workflow: effect === 'review' ? 'default' : null, reason: null, errors: [] });
  }
});

test('conditions see JSON numbers, timestamps, labels and null the way people write them', () => {
  const a = action({ arguments: { n: 5, ratio: 0.5 }, resource: null });
  assert.equal(compileCondition('arguments.n == 5 && arguments.n > 3 && arguments.ratio < 1').evaluate(a), true);
  assert.equal(compileCondition('now > timestamp("2026-01-01T00:00:00Z") && now.getHours("UTC") == 10').evaluate(a), true);
  assert.equal(compileCondition('agent.labels.team == "red" && resource == null && !has(arguments.env)').evaluate(a), true);
  assert.equal(compileCondition('tool == "shell"'), compileCondition('tool == "shell"'), 'compiled once per text');
  assert.throws(() => compileCondition('arguments.n').evaluate(a), /not a bool/);
  assert.throws(
    () => compileCondition('1 +'),
    (e: unknown) => e instanceof ConditionError && e.line === 1 && e.column === 4,
  );
});

test('rules are indexed by the tool tests of their top-level conjunction, and pure tool tests skip CEL', () => {
  const p = policyOf({
    rules: rules(
      ['one', 'tool == "deploy" && arguments.env == "production"', 'review'],
      ['flipped', '"deploy" == tool', 'deny'],
      ['listed', 'tool in ["a", "b"] && (tool == "b" && true)', 'deny'],
      ['either', 'tool == "a" || arguments.x == 1', 'deny'],
      ['never', 'tool == "a" && tool == "b"', 'deny'],
    ),
  });
  const view = p.rules.map((r) => [r.name, r.tools, r.toolOnly]);
  assert.deepEqual(view, [
    ['one', ['deploy'], false],
    ['flipped', ['deploy'], true],
    ['listed', ['b'], false],
    ['either', null, false],
    ['never', [], true],
  ]);
  assert.deepEqual(
    p.generic.map((r) => r.name),
    ['either'],
  );
  assert.deepEqual(
    p.byTool.get('deploy')?.map((r) => r.name),
    ['one', 'flipped'],
  );
});

test('the tool index gives exactly the decisions of evaluating every rule in order', () => {
  const rand = mulberry32(20260105);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const TOOLS = ['t0', 't1', 't2', 't3', 'shell', 'deploy'];
  const toolAtom = (): string =>
    pick([() => `tool == "${pick(TOOLS)}"`, () => `"${pick(TOOLS)}" == tool`, () => `tool in ["${pick(TOOLS)}", "${pick(TOOLS)}"]`])();
  const ATOMS = [
    'arguments.env == "production"',
    'arguments.n > 3',
    'has(arguments.env)',
    'annotations.readOnlyHint == true',
    'shell_commands(arguments.command).exists(c, c.name == "rm")',
    'agent.labels.team == "red"',
    'resource == null',
    'true',
    'false',
    'tool.startsWith("t1")',
    '!(tool == "t2")',
    'arguments.n + 1 == 4',
  ];
  const condition = (): string => {
    const parts: string[] = [];
    const n = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < n; i++) {
      const r = rand();
      parts.push(r < 0.45 ? toolAtom() : r < 0.85 ? pick(ATOMS) : `(${pick(ATOMS)} || ${toolAtom()})`);
    }
    return parts.join(' && ');
  };
  let compared = 0;
  let sawErrors = 0;
  for (let round = 0; round < 150; round++) {
    const count = 1 + Math.floor(rand() * 25);
    const config = {
      default: pick(['allow', 'deny', 'review'] as const),
      rules: Array.from({ length: count }, (_, i) => {
        const effect = pick(['allow', 'deny', 'review'] as const);
        return { name: `r${i}`, when: condition(), effect, ...(effect === 'review' && rand() < 0.5 ? { workflow: 'two-sres' } : {}) };
      }),
    };
    const p = policyOf(config);
    for (let k = 0; k < 40; k++) {
      const args: Record<string, unknown> = {};
      if (rand() < 0.6) args.env = pick(['production', 'staging', 5]);
      if (rand() < 0.6) args.n = pick([1, 3, 4, 6, 2.5]);
      if (rand() < 0.6) args.command = pick(['rm -rf /', 'ls | xargs rm', 'ls', 'echo "unterminated', 'sudo -u root cat x']);
      const a = action({
        tool: pick([...TOOLS, 'other']),
        arguments: args,
        annotations: withAnnotationDefaults(rand() < 0.3 ? { readOnlyHint: true } : {}),
        agent: { name: 'a', owner: 'o@example.com', labels: rand() < 0.5 ? { team: 'red' } : {} },
        resource: rand() < 0.5 ? null : 'db://prod',
      });
      const indexed = evaluatePolicy(p, a);
      assert.deepEqual(indexed, evaluatePolicyUnindexed(p, a), JSON.stringify({ config, a }));
      if (indexed.errors.length > 0) {
        sawErrors++;
        assert.notEqual(indexed.effect, 'allow');
      }
      compared++;
    }
  }
  assert.equal(compared, 6000);
  assert.ok(sawErrors > 100, `only ${sawErrors} decisions with errors`);
});

/** A small seeded PRNG so the property test is reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
