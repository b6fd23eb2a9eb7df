import type { FrozenApprovers, FrozenStage } from './frozen.js';

export interface Voter {
  id: string;
  email: string;
  role: 'admin' | 'reviewer' | 'viewer';
  groups: readonly string[];
}

const RANK = { viewer: 0, reviewer: 1, admin: 2 } as const;

/** Whether one approvers entry names this person. A role names everyone at or above it (admins review too). */
export function matchesApprovers(a: FrozenApprovers, voter: Voter, agentOwnerId: string): boolean {
  if (RANK[voter.role] < RANK.reviewer) return false;
  if (a.users?.includes(voter.email.toLowerCase())) return true;
  if (a.groups?.some((g) => voter.groups.includes(g))) return true;
  if (a.roles?.some((r) => RANK[voter.role] >= RANK[r])) return true;
  return a.owner === true && voter.id === agentOwnerId;
}

/** The approvers in force in a stage: its own, plus every escalation level that has fired. Escalation only adds people. */
export function approversInForce(stage: FrozenStage, escalations: number): FrozenApprovers[] {
  return [stage.approvers, ...stage.levels.slice(0, Math.min(escalations, stage.levels.length)).map((l) => l.approvers)];
}

export function isEligible(stage: FrozenStage, escalations: number, voter: Voter, agentOwnerId: string): boolean {
  return approversInForce(stage, escalations).some((a) => matchesApprovers(a, voter, agentOwnerId));
}

/** Whether the stage names the agent's owner explicitly, the one case where the owner may vote. */
export function ownerMayVote(stage: FrozenStage, escalations: number): boolean {
  return approversInForce(stage, escalations).some((a) => a.owner === true);
}

/** One merged description of who may vote now, for reviewers and agents to read. */
export function describeApprovers(list: readonly FrozenApprovers[]): Required<FrozenApprovers> {
  const users = new Set<string>();
  const groups = new Set<string>();
  const roles = new Set<'reviewer' | 'admin'>();
  let owner = false;
  for (const a of list) {
    for (const u of a.users ?? []) users.add(u);
    for (const g of a.groups ?? []) groups.add(g);
    for (const r of a.roles ?? []) roles.add(r);
    owner ||= a.owner === true;
  }
  return { users: [...users], groups: [...groups], roles: [...roles], owner };
}
