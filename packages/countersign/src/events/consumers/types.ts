import type { EventType, StoredEvent } from '../types.js';

/** One delivery of one event to one consumer. */
export interface Delivery {
  event: StoredEvent;
  /**
   * `${consumer}:${seq}`: the same for every delivery of this event to this consumer (a retry, a replay, a
   * redelivery after a node died mid-batch). A side effect that must happen once records this key with
   * its effect (a unique column, an Idempotency-Key header) and skips a key it has seen.
   */
  idempotencyKey: string;
  /** 1 for the first delivery; retries and replays count up. */
  attempt: number;
}

/** What a plugin registers: a name (its cursor in the database) and a handler. */
export interface ConsumerDefinition {
  /** Stable: the cursor, retries and dead letters are kept under it. Letters, digits, ".", "_", "-". */
  name: string;
  /** Throwing (or rejecting) schedules a retry; after `maxAttempts` the event is dead-lettered. */
  handle(delivery: Delivery): Promise<void> | void;
  /** Event types to deliver; the cursor passes the others without calling the handler. Default: all. */
  types?: readonly EventType[];
  /** Where a consumer seen for the first time starts: after the current head (default) or at the oldest kept event. */
  startAt?: 'head' | 'oldest';
  /** Events per claim (default 500). */
  batchSize?: number;
  /**
   * Deliveries in flight at once (default 1: strictly one after another in seq order). Above 1, the
   * deliveries of one action still run one after another in seq order, and different actions' side by
   * side: for handlers that wait on a platform (a Slack or Teams call, an SMTP conversation).
   */
  concurrency?: number;
  /** Overrides `events.consumer_max_attempts` for this consumer. */
  maxAttempts?: number;
}

export const CONSUMER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function idempotencyKey(consumer: string, seq: number): string {
  return `${consumer}:${seq}`;
}
