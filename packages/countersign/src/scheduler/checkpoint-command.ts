import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from 'pino';
import type { CheckpointRecord } from '../domain/audit/write-checkpoint.js';

const STDERR_KEEP = 4096;

/**
 * Runs `audit.checkpoint_command` (through /bin/sh -c) with each new
 * checkpoint note on stdin, so checkpoints leave the box (a witness, an
 * object store, another host) and a full rewrite of the database is still
 * caught by whoever holds them. Never blocks the gateway: one run at a time,
 * and while one runs only the newest checkpoint waits (each checkpoint covers
 * every earlier one). Failures are logged, never retried.
 */
export class CheckpointCommand {
  private child: ChildProcess | undefined;
  private waiting: CheckpointRecord | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly command: string,
    private readonly logger: Logger,
    private readonly timeoutMs = 60_000,
  ) {}

  ship(cp: CheckpointRecord): void {
    if (this.child) {
      this.waiting = cp;
      return;
    }
    this.run(cp);
  }

  /** Resolves when no command is running or waiting, or after `maxMs` (real time: this waits on another process). */
  idle(maxMs = Number.POSITIVE_INFINITY): Promise<void> {
    if (!this.child) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      if (Number.isFinite(maxMs)) setTimeout(resolve, maxMs).unref();
    });
  }

  private run(cp: CheckpointRecord): void {
    const log = this.logger.child({ component: 'checkpoint_command', size: cp.size });
    const env = {
      ...process.env,
      COUNTERSIGN_CHECKPOINT_SIZE: String(cp.size),
      COUNTERSIGN_CHECKPOINT_HASH: cp.headHash,
      COUNTERSIGN_CHECKPOINT_KID: cp.kid,
    };
    const child = spawn('/bin/sh', ['-c', this.command], { stdio: ['pipe', 'ignore', 'pipe'], env });
    this.child = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < STDERR_KEEP) stderr += s.slice(0, STDERR_KEEP - stderr.length);
    });
    // A command that ignores stdin closes the pipe early; that is not a failure.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(cp.note);
    const timer = setTimeout(() => {
      log.error({ timeoutMs: this.timeoutMs }, 'checkpoint_command timed out; killed');
      child.kill('SIGKILL');
    }, this.timeoutMs);
    timer.unref();
    let finished = false;
    const done = (err: Error | null, code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (err) log.error({ err }, 'checkpoint_command could not be started');
      else if (code !== 0) log.error({ code, signal, stderr: stderr.trim() }, 'checkpoint_command failed');
      else log.debug('checkpoint shipped');
      this.child = undefined;
      const next = this.waiting;
      this.waiting = undefined;
      if (next) this.run(next);
      else for (const w of this.idleWaiters.splice(0)) w();
    };
    child.on('error', (err) => done(err, null, null));
    child.on('close', (code, signal) => done(null, code, signal));
  }
}
