import type { Config } from '../config/schema.js';
import { type FrozenWorkflow, freezeWorkflow } from '../domain/workflow/frozen.js';
import { canonicalJson, sha256Hex } from '../lib/canonical.js';
import { CsError, type ErrorIssue } from '../lib/errors.js';
import { compileCondition } from './cel-env.js';
import { type CompiledPolicy, compilePolicy, PolicyError } from './compile-policy.js';

/** A policy ready to decide: compiled rules, frozen workflows, and the hash actions record as its version. */
export interface LoadedPolicy {
  readonly hash: string;
  readonly compiled: CompiledPolicy;
  readonly workflows: ReadonlyMap<string, FrozenWorkflow>;
  /** What was hashed: the policy and the resolved workflows, as canonical JSON. */
  readonly source: string;
}

/**
 * Compiles a policy and its workflows, or refuses all of it: one CsError that
 * names every bad rule or stage, with positions. Nothing half-loaded is ever used.
 */
export function loadPolicy(section: Pick<Config, 'policy' | 'workflows'>, defaultExpiryMs: number): LoadedPolicy {
  const issues: ErrorIssue[] = [];
  const workflows = new Map<string, FrozenWorkflow>();
  for (const [name, w] of Object.entries(section.workflows)) {
    const frozen = freezeWorkflow(name, w, defaultExpiryMs);
    for (const stage of frozen.stages) {
      if (stage.when === null) continue;
      try {
        compileCondition(stage.when);
      } catch (e) {
        issues.push({ path: `workflows.${name}.stages[${stage.index}].when`, message: (e as Error).message });
      }
    }
    workflows.set(name, frozen);
  }
  let compiled: CompiledPolicy | undefined;
  try {
    compiled = compilePolicy(section.policy, { workflows: new Set(workflows.keys()) });
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    for (const i of e.issues) {
      const at = i.line === undefined ? '' : ` (line ${i.line}, column ${i.column ?? 1})`;
      issues.unshift({ path: `policy.rules.${i.rule}${i.path ? `.${i.path}` : ''}`, message: `${i.message}${at}` });
    }
  }
  if (issues.length > 0 || compiled === undefined) {
    throw new CsError('invalid_request', `the policy was refused: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
  }
  const source = canonicalJson({ policy: section.policy, workflows: Object.fromEntries(workflows) });
  return { hash: sha256Hex(source), compiled, workflows, source };
}

/**
 * Holds the policy in force and the database version it is (null until the node has adopted one).
 * A switch swaps it whole, and actions already created keep what they froze. Versions only move
 * forward, so a slow read of an older version can never undo a newer one adopted meanwhile.
 */
export class PolicyStore {
  private versionNo: number | null = null;

  constructor(private loaded: LoadedPolicy) {}

  get current(): LoadedPolicy {
    return this.loaded;
  }

  /** The policy_versions number in force here; null before start-up adopted one. */
  get version(): number | null {
    return this.versionNo;
  }

  /** Switches to `version` unless this node already decides with it or a newer one; says whether it switched. */
  adopt(next: LoadedPolicy, version: number): boolean {
    if (this.versionNo !== null && version <= this.versionNo) return false;
    this.loaded = next;
    this.versionNo = version;
    return true;
  }
}
