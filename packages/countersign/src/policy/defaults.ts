import type { PolicyConfig, PolicyFileConfig, WorkflowConfig } from './schema.js';

/**
 * The built-in rules: a read-only hint passes, but only from an agent the operator listed in
 * `trust_annotations` (a hint is the agent's claim, and nothing an agent claims approves by itself);
 * everything else goes to any reviewer.
 */
export const DEFAULT_RULES: PolicyConfig['rules'] = [
  { name: 'trusted-reads-pass', when: 'annotations_trusted && annotations.readOnlyHint == true', effect: 'allow' },
];

/** With no policy configured. */
export const DEFAULT_POLICY: PolicyConfig = { default: 'review', rules: DEFAULT_RULES, trust_annotations: [] };

/** A `policy:` section as written, with the built-in rules where it lists none. */
export function withDefaultRules(policy: PolicyFileConfig | undefined): PolicyConfig {
  if (policy === undefined) return DEFAULT_POLICY;
  return { ...policy, rules: policy.rules ?? DEFAULT_RULES };
}

export const DEFAULT_WORKFLOW: WorkflowConfig = {
  stages: [{ name: 'review', approvers: { roles: ['reviewer'] }, quorum: 1 }],
};

/** The built-in `default` workflow is always there unless the operator defines their own. */
export function withDefaultWorkflow(workflows: Record<string, WorkflowConfig> | undefined): Record<string, WorkflowConfig> {
  return { default: DEFAULT_WORKFLOW, ...(workflows ?? {}) };
}
