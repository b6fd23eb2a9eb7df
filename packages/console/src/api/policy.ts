import { request } from './client.js';
import type {
  ActivePolicy,
  ApplyPolicyInput,
  EvaluateInput,
  PolicyChange,
  PolicyDocument,
  PolicyEvaluation,
  PolicyReplay,
  PolicyVersions,
  ReplayInput,
  RollbackPolicyInput,
} from './policy-types.js';

/** The policy administration calls (admins only; the gateway answers 403 to anyone else). */
export const policyApi = {
  active: () => request<ActivePolicy>('GET', '/v1/policy'),
  versions: () => request<PolicyVersions>('GET', '/v1/policy/versions'),
  version: (n: number) => request<PolicyDocument>('GET', `/v1/policy/versions/${n}`),
  apply: (input: ApplyPolicyInput) => request<PolicyChange>('POST', '/v1/policy/versions', input),
  rollback: (input: RollbackPolicyInput) => request<PolicyChange>('POST', '/v1/policy/rollback', input),
  evaluate: (input: EvaluateInput) => request<PolicyEvaluation>('POST', '/v1/policy/evaluate', input),
  replay: (input: ReplayInput) => request<PolicyReplay>('POST', '/v1/policy/replay', input),
};
