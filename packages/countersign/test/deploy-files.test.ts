/*
 * The packaging in deploy/: the container image definition, the compose file and the systemd unit hold the
 * properties an operator relies on. No image is built here: a build takes far longer than this suite may
 * (docs/operations.md, "Container", says why and how it was built); scripts/image-offline-build.sh builds and
 * runs it where podman is installed. The unit is checked by systemd's own tools when they are on this host.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { CLI_MAIN, REPO_ROOT } from './helpers.js';

const run = promisify(execFile);
const DEPLOY = join(REPO_ROOT, 'deploy');
const read = (name: string) => readFileSync(join(DEPLOY, name), 'utf8');
/** Names that carry secrets; none may be given a value in a file that ships. */
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|PRIVATE|API_KEY|CREDENTIAL/i;
/** A version pin: an exact x.y(.z) release tag, or a digest. */
const PINNED = /(?::[^:@/]*\d+\.\d+[^:@/]*)|(?:@sha256:[0-9a-f]{64})$/;

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined and comments dropped, as the builder reads them. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(\S+)\s+(.*)$/.exec(l);
      assert.ok(m, `not an instruction: ${l}`);
      return { op: (m[1] as string).toUpperCase(), args: m[2] as string };
    });
}

describe('the container image definition (deploy/Dockerfile)', () => {
  const all = instructions(read('Dockerfile'));
  const stages = all.reduce<Instruction[][]>((acc, i) => {
    if (i.op === 'FROM') acc.push([]);
    acc.at(-1)?.push(i);
    return acc;
  }, []);
  const final = stages.at(-1) ?? [];

  test('is multi-stage: the runtime stage takes only built files from the build stage, and has no compilers', () => {
    assert.ok(stages.length >= 2, 'at least a build stage and a runtime stage');
    assert.match(stages[0]?.[0]?.args ?? '', /\bAS build$/i);
    assert.ok(final.some((i) => i.op === 'COPY' && /--from=build\b/.test(i.args)));
    assert.ok(!final.some((i) => i.op === 'RUN' && /apt-get|npm (ci|install)|g\+\+/.test(i.args)), 'no installs in the runtime stage');
  });

  test('every base image is pinned to a release (or a digest), never a floating tag', () => {
    const arg = all.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    assert.ok(arg, 'the base is one ARG, so a digest pin is one edit');
    const image = arg.args.slice('NODE_IMAGE='.length);
    assert.match(image, PINNED);
    assert.doesNotMatch(image, /:latest\b/);
    for (const from of all.filter((i) => i.op === 'FROM')) assert.match(from.args, /^\$\{NODE_IMAGE\}/);
  });

  test('runs as a numeric non-root user, with a health check on /readyz and the CLI as its entry point', () => {
    const user = final.filter((i) => i.op === 'USER').at(-1);
    assert.ok(user, 'the runtime stage names its user');
    assert.match(user.args, /^\d+:\d+$/, 'numeric uid:gid, so no passwd entry is needed and runAsNonRoot can check it');
    assert.notEqual(user.args.split(':')[0], '0');
    const health = final.find((i) => i.op === 'HEALTHCHECK');
    assert.ok(health);
    assert.match(health.args, /CMD .*\/readyz/);
    const entry = final.find((i) => i.op === 'ENTRYPOINT');
    assert.ok(entry);
    const argv = JSON.parse(entry.args) as string[];
    assert.equal(argv[0], 'node');
    assert.ok(argv.at(-1)?.endsWith('packages/countersign/dist/cli/main.js'));
    assert.ok(existsSync(CLI_MAIN), 'the entry point is what the build writes');
    const env = final
      .filter((i) => i.op === 'ENV')
      .map((i) => i.args)
      .join(' ');
    assert.match(env, /COUNTERSIGN_HOST=0\.0\.0\.0/, 'binds where the container network reaches it');
    const port = /COUNTERSIGN_PORT=(\d+)/.exec(env)?.[1];
    assert.ok(final.some((i) => i.op === 'EXPOSE' && i.args === port));
  });

  test('writes only to its data volume (owned by its user) and /tmp, so it runs on a read-only root', () => {
    const volume = final.find((i) => i.op === 'VOLUME');
    assert.deepEqual(JSON.parse(volume?.args ?? '[]'), ['/var/lib/countersign']);
    assert.ok(final.some((i) => i.op === 'RUN' && /chown 10001:10001 \/var\/lib\/countersign/.test(i.args)));
    assert.ok(final.some((i) => i.op === 'ENV' && /COUNTERSIGN_DATA_DIR=\/var\/lib\/countersign/.test(i.args)));
  });

  test('bakes in no secret, and its build context leaves out what is installed, built or stored locally', () => {
    for (const i of all.filter((x) => x.op === 'ENV' || x.op === 'ARG'))
      for (const name of i.args.split(/\s+/).map((kv) => kv.split('=')[0] ?? '')) assert.doesNotMatch(name, SECRET_NAME, i.args);
    assert.ok(!all.some((i) => i.op === 'ADD'), 'COPY only: ADD fetches URLs and unpacks archives');
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['**/node_modules', '**/dist', '.git', '.countersign', '**/*.db']) assert.ok(ignored.includes(p), p);
  });
});

describe('the compose file (deploy/compose.yaml)', () => {
  // biome-ignore lint/suspicious/noExplicitAny: a parsed YAML document, checked field by field below
  const compose = parseYaml(read('compose.yaml')) as any;
  const gateway = compose.services.gateway;
  const postgres = compose.services.postgres;

  test('runs the gateway read-only, with a tmpfs /tmp, as a numeric non-root user, without capabilities', () => {
    assert.equal(gateway.read_only, true);
    assert.ok((gateway.tmpfs as string[]).some((t) => t.split(':')[0] === '/tmp'));
    assert.match(gateway.user, /^[1-9]\d*:\d+$/);
    assert.deepEqual(gateway.cap_drop, ['ALL']);
    assert.ok((gateway.security_opt as string[]).includes('no-new-privileges:true'));
    assert.equal(gateway.build.dockerfile, 'deploy/Dockerfile');
    assert.deepEqual(gateway.volumes, ['countersign-data:/var/lib/countersign']);
  });

  test('starts the gateway once PostgreSQL answers its health check, on the database compose runs', () => {
    assert.equal(gateway.depends_on.postgres.condition, 'service_healthy');
    assert.equal(postgres.healthcheck.test[1], 'pg_isready');
    assert.match(
      gateway.environment.COUNTERSIGN_DATABASE_URL,
      /^postgres:\/\/countersign:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/countersign$/,
    );
    assert.match(postgres.image, PINNED);
  });

  test('every secret comes from the environment at start, never from the file', () => {
    for (const service of Object.values(compose.services) as { environment?: Record<string, string> }[])
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        if (SECRET_NAME.test(name)) assert.match(value, /^\$\{[A-Z_]+:\?[^}]+\}$/, `${name} is required from .env`);
        assert.doesNotMatch(value, /:\/\/[^:$]+:[^$@]+@/, `${name} holds a literal password`);
      }
    const gitignore = readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8');
    assert.match(gitignore, /^deploy\/\.env$/m);
  });
});

describe('the systemd unit (deploy/countersign.service)', () => {
  const unit = read('countersign.service');
  const values = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);

  test('runs as its own unprivileged user with its state directory, secrets from an environment file, and hardening', () => {
    assert.deepEqual(values('DynamicUser'), ['yes']);
    assert.deepEqual(values('StateDirectory'), ['countersign']);
    assert.match(values('EnvironmentFile')[0] ?? '', /^-?\/etc\/countersign\/countersign\.env$/);
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['PrivateDevices', 'yes'],
      ['CapabilityBoundingSet', ''],
    ] as const)
      assert.deepEqual(values(key), [value], key);
    for (const env of values('Environment')) assert.doesNotMatch(env?.split('=')[0] ?? '', SECRET_NAME);
    assert.match(values('ExecStart')[0] ?? '', /\/dist\/cli\/main\.js serve$/);
  });

  test('passes systemd-analyze verify without a warning, and its exposure score is low', async (t) => {
    const found = await run('systemd-analyze', ['--version']).then(
      () => true,
      () => false,
    );
    if (!found) {
      t.skip('systemd-analyze is not installed on this host');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'cs-unit-'));
    try {
      // Verify checks that ExecStart's program exists: point it at this host's node.
      const path = join(dir, 'countersign.service');
      writeFileSync(path, unit.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
      const verified = await run('systemd-analyze', ['verify', path]);
      assert.equal(verified.stderr, '', 'systemd-analyze reports unknown keys and bad values on stderr (exit 0 regardless)');
      const security = await run('systemd-analyze', ['security', '--offline=true', path]);
      const score = Number(/Overall exposure level for countersign\.service: ([\d.]+)/.exec(security.stdout)?.[1]);
      process.stdout.write(`# systemd-analyze security: exposure ${score} (0 = locked down, 10 = exposed)\n`);
      assert.ok(score <= 2, `exposure ${score}`);
      // And a broken unit is caught: the check above can fail.
      writeFileSync(path, unit.replace('ProtectSystem=strict', 'ProtectSystem=bogus'));
      assert.match((await run('systemd-analyze', ['verify', path])).stderr, /protect system value/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the node flags the gateway starts with', () => {
  const BIN = join(REPO_ROOT, 'packages/countersign/bin/countersign.js');
  /** The flags on the bin's shebang line, where `npx countersign serve` and an npm install take them from. */
  const binFlags = () => /^#!\/usr\/bin\/env -S node (.*)$/.exec(readFileSync(BIN, 'utf8').split('\n', 1)[0] ?? '')?.[1]?.split(' ');

  test('the bin, the container image and the systemd unit start node with the same flags: a capped young generation', () => {
    const flags = binFlags();
    assert.deepEqual(flags, ['--max-semi-space-size=8'], 'docs/operations.md, "Memory", says why');
    const entry = instructions(read('Dockerfile')).findLast((i) => i.op === 'ENTRYPOINT');
    const argv = JSON.parse(entry?.args ?? '[]') as string[];
    assert.deepEqual(argv.slice(1, -1), flags, 'the image');
    const exec = /^ExecStart=\/usr\/bin\/node (.*) \/opt\/countersign\/dist\/cli\/main\.js serve$/m.exec(read('countersign.service'));
    assert.deepEqual(exec?.[1]?.split(' '), flags, 'the unit');
  });

  test('the bin runs through its shebang line (env -S passes node its flags)', async () => {
    const { stdout } = await run(BIN, ['--version']);
    assert.match(stdout, /^\d+\.\d+\.\d+/);
  });
});
