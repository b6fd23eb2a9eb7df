/** Messages between bench/core.ts and its server child (bench/server.ts). */
/** echo-sign: the echo plus the one Ed25519 signature every approval needs (its receipt); a ceiling, not a gateway. */
export type ServerMode = 'echo' | 'echo-sign' | 'sqlite' | 'postgres';

export interface ReadyMessage {
  type: 'ready';
  mode: ServerMode;
  url: string;
  /** Agent key (proposes, waits) and a reviewer key (not the agent's owner). Empty for echo. */
  keys: { agent: string; reviewer: string };
}

export interface StatsMessage {
  type: 'stats';
  actions: number;
  audit: number;
  events: number;
  /** Committer batches since the last reset, operations in them, and wall time inside their transactions. */
  batches: number;
  ops: number;
  txMs: number;
  /** CPU time (user + system) the server process used since the last reset. */
  cpuMs: number;
}

/** Answer to a 'gc' request: a full collection ran (the child was started with --expose-gc) or could not. */
export interface GcMessage {
  type: 'gc-done';
  ran: boolean;
}
