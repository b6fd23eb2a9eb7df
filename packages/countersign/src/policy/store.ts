import { DEFAULT_ROUTES, type NotifyRoute } from '../config/notify-schema.js';
import { type FrozenWorkflow, freezeWorkflow } from '../domain/workflow/frozen.js';
import { canonicalJson, sha256Hex } from '../lib/canonical.js';
import { CsError, type ErrorIssue } from '../lib/errors.js';
import { compileCondition } from './cel-env.js';
import { type CompiledPolicy, compilePolicy, PolicyError } from './compile-policy.js';
import type { PolicySections } from './document.js';

/** A policy ready to decide: compiled rules, frozen workflows, and the hash actions record as its version. */
export interface LoadedPolicy {
  readonly hash: string;
  readonly compiled: CompiledPolicy;
  readonly workflows: ReadonlyMap<string, FrozenWorkflow>;
  /** Where notifications go (the document's routes, else the built-in ones): what every node's channels follow. */
  readonly routes: readonly NotifyRoute[];
  /** What was hashed: the policy, the resolved workflows and any routes, as canonical JSON. */
  readonly source: string;
}

/**
 * Compiles a policy and its workflows, or refuses all of it: one CsError that
 * names every bad rule or stage, with positions. Nothing half-loaded is ever used.
 */
export function loadPolicy(section: PolicySections, defaultExpiryMs: number): LoadedPolicy {
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
  issues.push(...routeIssues(section.routes ?? [], workflows));
  if (issues.length > 0 || compiled === undefined) {
    throw new CsError('invalid_request', `the policy was refused: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
  }
  // Routes join the hash only when written, so a document without them keeps the hash it always had.
  const source = canonicalJson({
    policy: section.policy,
    workflows: Object.fromEntries(workflows),
    ...(section.routes === undefined ? {} : { routes: section.routes }),
  });
  return { hash: sha256Hex(source), compiled, workflows, routes: section.routes ?? DEFAULT_ROUTES, source };
}

/** A route naming a workflow or stage that does not exist would never fire: refused with its path. */
function routeIssues(routes: readonly NotifyRoute[], workflows: ReadonlyMap<string, FrozenWorkflow>): ErrorIssue[] {
  const issues: ErrorIssue[] = [];
  routes.forEach((r, i) => {
    const path = `notifications.routes[${i}]`;
    if (r.workflow === '*') {
      const everywhere = [...workflows.values()].some((w) => w.stages.some((s) => s.name === r.stage));
      if (r.stage !== undefined && !everywhere)
        issues.push({ path: `${path}.stage`, message: `no workflow has a stage named "${r.stage}"` });
      return;
    }
    const w = workflows.get(r.workflow);
    if (!w) issues.push({ path: `${path}.workflow`, message: `no workflow named "${r.workflow}"` });
    else if (r.stage !== undefined && !w.stages.some((s) => s.name === r.stage)) {
      issues.push({ path: `${path}.stage`, message: `workflow "${r.workflow}" has no stage named "${r.stage}"` });
    }
  });
  return issues;
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
