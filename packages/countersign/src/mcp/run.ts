import type { Transport } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.js';
import { ProxyCore } from './core.js';
import { listenHttp } from './http-listener.js';
import { serveProxyOverStdio } from './serve-stdio.js';
import type { ProxySettings } from './settings.js';

export interface RunningProxy {
  core: ProxyCore;
  /** The listener's MCP endpoint with `--listen`; undefined over stdio. */
  url: string | undefined;
  /** Resolves once the proxy has stopped (stdio: the client went away; HTTP: stop() was called). */
  done: Promise<void>;
  /** Withdraws open calls, finishes reports, closes upstreams and the listener. Idempotent. */
  stop(reason?: string): Promise<void>;
}

export interface RunOptions {
  log: Logger;
  clock?: Clock;
  /** Serve stdio over this transport instead of the process's stdin/stdout (tests). */
  stdioTransport?: Transport;
}

/** Starts the proxy: the core (gateway, upstreams, pins), then stdio serving or the HTTP listener. */
export async function runProxy(settings: ProxySettings, opts: RunOptions): Promise<RunningProxy> {
  const core = await ProxyCore.start(settings, { log: opts.log, ...(opts.clock ? { clock: opts.clock } : {}) });
  if (settings.listen) {
    const listener = await listenHttp(core, settings.listen).catch(async (e) => {
      await core.close();
      throw e;
    });
    let stopped: Promise<void> | undefined;
    const stop = (reason?: string) => {
      stopped ??= listener.close().then(() => core.close(reason));
      return stopped;
    };
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    return { core, url: listener.url, done, stop: (reason) => stop(reason).then(resolveDone) };
  }
  const serving = serveProxyOverStdio(core, opts.stdioTransport);
  const done = serving.closed.then(() => core.close('the MCP client disconnected'));
  return {
    core,
    url: undefined,
    done,
    async stop(reason) {
      await serving.close();
      await core.close(reason);
    },
  };
}
