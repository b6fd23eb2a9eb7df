import type { Client } from '../../client.js';
import { type GuardOptions, guardKey, guardProposal } from '../../guard.js';
import type { Action } from '../../types.js';

/** A call's arguments as Countersign sees them: the JSON object the tool received. */
export type Arguments = Record<string, unknown>;

/**
 * Where a tool wrapped with `mode: 'approval-request'` keeps its gate. A symbol property survives the copies
 * users make of tool records (`{ ...tools }`), and `Symbol.for` survives two copies of this module.
 */
export const GATE: unique symbol = Symbol.for('@countersign/sdk/ai-sdk/gate');

/** The Countersign side of one gated tool, shared by its `needsApproval` and {@link resolveToolApprovals}. */
export interface Gate {
  readonly client: Client;
  /** The tool name policies see. */
  readonly tool: string;
  /**
   * Proposes the call without redeeming it, or finds the action proposed earlier for it: the same key and body
   * as guard() uses when `execute` runs, so `execute` attaches to this action and redeems its receipt itself.
   */
  propose(args: Arguments, toolCallId: string): Promise<Action>;
}

export function createGate(client: Client, options: GuardOptions<Arguments>): Gate {
  return {
    client,
    tool: options.tool,
    propose: (args, toolCallId) => {
      const key = guardKey(options, args, { toolCallId });
      return client.propose(guardProposal(options, args), key === undefined ? {} : { idempotencyKey: key });
    },
  };
}

/** The gate of a tool wrapped with `mode: 'approval-request'`; undefined for any other tool. */
export function gateOf(tool: unknown): Gate | undefined {
  return typeof tool === 'object' && tool !== null ? (tool as { [GATE]?: Gate })[GATE] : undefined;
}

export function isArguments(value: unknown): value is Arguments {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
