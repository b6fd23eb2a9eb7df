import type { PolicyConfig, WorkflowConfig } from './schema.js';

/** With no policy configured: an MCP read-only hint passes, everything else goes to any reviewer. */
export const DEFAULT_POLICY: PolicyConfig = {
  default: 'review',
  rules: [{ name: 'reads-pass', when: 'annotations.readOnlyHint == true', effect: 'allow' }],
};

export const DEFAULT_WORKFLOW: WorkflowConfig = {
  stages: [{ name: 'review', approvers: { roles: ['reviewer'] }, quorum: 1 }],
};

/** The built-in `default` workflow is always there unless the operator defines their own. */
export function withDefaultWorkflow(workflows: Record<string, WorkflowConfig> | undefined): Record<string, WorkflowConfig> {
  return { default: DEFAULT_WORKFLOW, ...(workflows ?? {}) };
}
