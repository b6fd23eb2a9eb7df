import { CsError } from '../../lib/errors.js';
import { CONSUMER_NAME_RE, type ConsumerDefinition } from './types.js';

type Listener = (def: ConsumerDefinition) => void;

/**
 * The consumers this gateway runs. Built-in ones are registered at start-up; a plugin (or a test)
 * registers its own the same way, before or after the gateway starts: the runner picks each one up as it
 * is registered. Names are unique per process; the same name on several nodes is one consumer, run by
 * whichever node holds its lease.
 */
export class ConsumerRegistry {
  private readonly defs = new Map<string, ConsumerDefinition>();
  private readonly listeners = new Set<Listener>();

  register(def: ConsumerDefinition): void {
    if (!CONSUMER_NAME_RE.test(def.name)) {
      throw new CsError('invalid_request', `consumer name "${def.name}" must be 1-64 letters, digits, ".", "_" or "-"`);
    }
    if (this.defs.has(def.name)) throw new CsError('conflict', `a consumer named ${def.name} is already registered`);
    this.defs.set(def.name, def);
    for (const l of this.listeners) l(def);
  }

  list(): ConsumerDefinition[] {
    return [...this.defs.values()];
  }

  /** Calls `listener` for every consumer registered so far and every one registered later. */
  onRegister(listener: Listener): () => void {
    this.listeners.add(listener);
    for (const def of this.defs.values()) listener(def);
    return () => this.listeners.delete(listener);
  }
}
