import { resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { parseConfigFile } from '../../config/load.js';
import { CsError } from '../../lib/errors.js';
import { runProxy } from '../../mcp/run.js';
import { resolveProxySettings } from '../../mcp/settings.js';
import { registerMcpPins } from './mcp-pins.js';

interface ProxyOptions {
  name?: string;
  upstreamUrl?: string;
  header?: string[];
  listen?: string;
  host?: string;
  config?: string;
  gateway?: string;
  pins?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `countersign mcp proxy`: an MCP server in front of MCP servers, asking Countersign before each tool call runs. */
export function registerMcp(program: Command, out: (s: string) => void): void {
  const mcp = program.command('mcp').description('MCP approval proxy: put Countersign between an MCP client and its servers');
  mcp
    .command('proxy')
    .description(
      'serve the upstream MCP server(s) to an MCP client (stdio, or Streamable HTTP with --listen); every tool call is proposed to the gateway and runs only once approved. Uses COUNTERSIGN_URL and COUNTERSIGN_AGENT_KEY',
    )
    .argument('[command...]', 'the upstream stdio server, after "--": countersign mcp proxy -- npx -y @modelcontextprotocol/server-memory')
    .option('--name <name>', 'name of the upstream given on the command line (the action resource; default: from the command or URL)')
    .option('--upstream-url <url>', 'a Streamable HTTP upstream server instead of a command')
    .option('--header <header>', 'header for --upstream-url, "Name: value" (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--listen <port>', 'serve Streamable HTTP on this port at /mcp (clients send COUNTERSIGN_MCP_TOKEN as a bearer token)')
    .option('--host <host>', 'address for --listen (default 127.0.0.1)')
    .option('--config <file>', 'config file; its mcp section lists servers, annotation overrides and hold budgets')
    .option('--gateway <url>', 'the Countersign gateway (default COUNTERSIGN_URL, else http://127.0.0.1:8700)')
    .option('--pins <file>', 'where first-seen tool definitions are pinned (default ~/.countersign/mcp-pins.json)')
    .action(async (command: string[], o: ProxyOptions) => {
      const configPath = o.config ?? process.env.COUNTERSIGN_CONFIG;
      const file = parseConfigFile(configPath ? resolve(configPath) : undefined);
      const settings = resolveProxySettings(file.mcp, process.env, flagsOf(command, o), process.cwd());
      // stdout carries the MCP stream over stdio: every diagnostic goes to stderr.
      const log = pino({ level: logLevel(process.env.COUNTERSIGN_LOG_LEVEL ?? file.log?.level ?? 'warn') }, pino.destination(2));
      const proxy = await runProxy(settings, { log });
      if (proxy.url) process.stderr.write(`countersign mcp proxy listening on ${proxy.url}\n`);
      const stop = (signal: string) => {
        log.info({ signal }, 'stopping the MCP proxy');
        void proxy.stop(`the MCP proxy stopped (${signal})`);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      await proxy.done;
    });
  registerMcpPins(mcp, out);
}

function flagsOf(command: string[], o: ProxyOptions) {
  return {
    name: o.name,
    command,
    upstreamUrl: o.upstreamUrl,
    headers: o.header,
    gatewayUrl: o.gateway,
    listen: o.listen,
    host: o.host,
    pinsFile: o.pins,
  };
}

function logLevel(level: string): (typeof LOG_LEVELS)[number] {
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new CsError('invalid_request', `COUNTERSIGN_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  return level as (typeof LOG_LEVELS)[number];
}
