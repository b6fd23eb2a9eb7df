import { matchesApprovers, type Voter } from '../workflow/eligibility.js';
import type { FrozenWorkflow } from '../workflow/frozen.js';

export interface ActionParties {
  agentOwnerId: string;
  onBehalfOf: string | null;
}

/**
 * Whether this person, alone, could have approved an action under this
 * workflow: every stage needs one approval and names them (escalations aside,
 * since those are about nobody answering). A grant is never broader than that.
 * A stage with step-up needs a fresh strong sign-in at each approval, which a
 * grant made earlier cannot carry: no grant covers a workflow with one.
 */
export function canApproveAlone(wf: FrozenWorkflow, voter: Voter, parties: ActionParties): string | null {
  if (parties.onBehalfOf !== null && parties.onBehalfOf === voter.email) return 'the action acts on their behalf';
  for (const stage of wf.stages) {
    if (stage.step_up !== undefined) {
      return `stage "${stage.name}" of workflow "${wf.name}" needs a fresh strong sign-in at every approval (step_up)`;
    }
    if (stage.quorum > 1) return `stage "${stage.name}" of workflow "${wf.name}" needs ${stage.quorum} approvals`;
    if (!matchesApprovers(stage.approvers, voter, parties.agentOwnerId)) {
      return `they are not an approver of stage "${stage.name}" of workflow "${wf.name}"`;
    }
    if (voter.id === parties.agentOwnerId && stage.approvers.owner !== true) return 'they own the proposing agent';
  }
  return null;
}
