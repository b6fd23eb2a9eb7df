import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * A request's logger (`request.log`) that becomes the pino child Fastify would have made only when
 * something is logged. Fastify makes one per request and keeps it for the request's life; per-request
 * lines are off (server.ts), so most requests log nothing, and a parked long-poll or an event stream
 * held for minutes would keep a child (its bindings, its own level methods) for nothing. What is logged
 * is the same: the child gets the same bindings (the request id) and options.
 */
export class LazyRequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** As Fastify's `childLoggerFactory`. */
  static factory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
    return new LazyRequestLogger(logger, bindings, options);
  }

  private get log(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }

  get level(): LevelWithSilentOrString {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.log.level = level;
  }

  fatal(...args: unknown[]): void {
    this.call('fatal', args);
  }

  error(...args: unknown[]): void {
    this.call('error', args);
  }

  warn(...args: unknown[]): void {
    this.call('warn', args);
  }

  info(...args: unknown[]): void {
    this.call('info', args);
  }

  debug(...args: unknown[]): void {
    this.call('debug', args);
  }

  trace(...args: unknown[]): void {
    this.call('trace', args);
  }

  silent(...args: unknown[]): void {
    this.call('silent', args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.log.child(bindings, options);
  }

  /** Prototype methods, not a closure each: thousands of these are alive at once. */
  private call(level: Level, args: unknown[]): void {
    const log = this.log;
    (log[level] as (...a: unknown[]) => void).apply(log, args);
  }
}
