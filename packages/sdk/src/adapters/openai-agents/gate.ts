import type { Tool } from '@openai/agents';
import type { Client } from '../../client.js';
import { type GuardOptions, guardProposal } from '../../guard.js';
import type { Action } from '../../types.js';

/** A call's arguments as Countersign sees them: the JSON object the model sent. */
export type Arguments = Record<string, unknown>;

/** What every proposal of an approval tool carries besides the tool name and the arguments. */
export type ProposalOptions<A extends Arguments = Arguments> = Pick<
  GuardOptions<A>,
  'resource' | 'purpose' | 'annotations' | 'session_id' | 'parent_id' | 'on_behalf_of' | 'metadata'
>;

/**
 * Where an approval tool keeps its gate. A symbol property (not a WeakMap keyed by the tool) survives the
 * copies the framework and users make of tool objects, e.g. `toolNamespace()` or `{ ...tool }`.
 */
export const GATE: unique symbol = Symbol.for('@countersign/sdk/openai-agents/gate');

/** The Countersign side of one approval tool, shared by `needsApproval`, `execute` and `resolveInterruptions`. */
export interface Gate {
  readonly client: Client;
  /** The tool name policies see. */
  readonly tool: string;
  /**
   * Proposes the call, or re-attaches to the action proposed earlier for it: the key comes from the call id and
   * the body from the raw arguments, so every proposal of one call is the same request to the gateway.
   */
  propose(args: Arguments, callId: string): Promise<Action>;
}

export function createGate(client: Client, tool: string, options: ProposalOptions): Gate {
  return {
    client,
    tool,
    propose: (args, callId) => client.propose(guardProposal({ ...options, tool }, args), { idempotencyKey: callKey(tool, callId) }),
  };
}

/**
 * The idempotency key of one tool call; the same derivation as guard()'s default. The body is guard()'s too
 * (guardProposal): the gateway answers a different body under a key already used with 409.
 */
export function callKey(tool: string, callId: string): string {
  return `tool-call:${tool}:${callId}`;
}

/** The gate of an approval tool; undefined for any other tool. */
export function gateOf(tool: Tool<unknown>): Gate | undefined {
  return (tool as { [GATE]?: Gate })[GATE];
}

/** The arguments of a call as the model sent them, or undefined when they are not a JSON object. */
export function parseArguments(json: string): Arguments | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return isArguments(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function isArguments(value: unknown): value is Arguments {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
