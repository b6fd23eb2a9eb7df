import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { issueSetupLinkIfNeeded } from '../../domain/identities/links/setup-link.js';
import { startGateway } from '../../gateway.js';
import { CsError } from '../../lib/errors.js';
import { startTracingSdk } from '../../telemetry/tracing-sdk.js';
import { firstRunBanner, setupBanner } from './admin-hint.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the gateway')
    .option('--port <port>', 'port to listen on (default 8700, or COUNTERSIGN_PORT)')
    .option('--host <host>', 'address to bind (default 127.0.0.1, or COUNTERSIGN_HOST)')
    .option('--data <dir>', 'data directory for the embedded database (default ./.countersign)')
    .option('--config <file>', 'config file (YAML)')
    .action(async (o: { port?: string; host?: string; data?: string; config?: string }) => {
      if (o.port !== undefined && !/^\d{1,5}$/.test(o.port))
        throw new CsError('invalid_request', `--port must be a number, got "${o.port}"`);
      const config = loadConfig({
        file: o.config,
        overrides: { dataDir: o.data, host: o.host, port: o.port === undefined ? undefined : Number(o.port) },
      });
      // Before the gateway is built, so its tracer is the SDK's (telemetry/tracing.ts).
      const tracingSdk = await startTracingSdk(process.env);
      const gw = await startGateway(config, { watchPolicy: true });
      const log = gw.deps.logger;
      const db = gw.deps.db.caps.dialect === 'sqlite' ? config.database.url : 'postgresql';
      log.info({ url: gw.url, database: db }, 'countersign is listening');
      // One plain line on stdout with the real address (also with --port 0), for people and for scripts.
      process.stdout.write(`countersign listening on ${gw.url}\n`);
      const people = await gw.deps.db.read
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst();
      if (Number(people?.n ?? 0) === 0) {
        process.stderr.write(firstRunBanner({ data: o.data, config: o.config, env: process.env, cwd: process.cwd() }));
      }
      // Until an admin can sign in from a browser, each start prints a fresh one-time link (the previous one stops working).
      const setup = await issueSetupLinkIfNeeded(gw.deps, new URL(config.server.publicUrl ?? gw.url));
      if (setup) process.stderr.write(setupBanner(setup.url, setup.expiresAt - gw.deps.clock.now()));
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        gw.close()
          .then(() => tracingSdk?.shutdown())
          .then(
            () => process.exit(0),
            (err) => {
              log.error({ err }, 'shutdown failed');
              process.exit(1);
            },
          );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
