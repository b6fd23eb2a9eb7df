// The console's policy types (src/api/policy-types.ts) against the gateway's zod schemas: `npm run typecheck`
// fails when they drift apart; the test checks the routes the console calls exist.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import type {
  EvaluatePolicyBody,
  PolicyEvaluation,
  PolicyReplay,
  ReplayPolicyBody,
} from '../../countersign/src/domain/policy/evaluate-schemas.js';
import type {
  ActivePolicyView,
  ApplyPolicyBody,
  PolicyChange,
  PolicyDocumentView,
  PolicyVersionView,
  RollbackPolicyBody,
} from '../../countersign/src/domain/policy/schemas.js';
import { ROUTES } from '../../countersign/src/http/server.js';
import type * as Console from '../src/api/policy-types.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const check = <T extends true>(_: T) => undefined;

// What the gateway sends, the console reads as declared.
check<Same<Console.PolicyVersion, PolicyVersionView>>(true);
check<Same<keyof Console.PolicyDocument, keyof z.output<typeof PolicyDocumentView>>>(true);
check<z.output<typeof PolicyDocumentView> extends Console.PolicyDocument ? true : false>(true);
check<Same<keyof Console.ActivePolicy, keyof z.output<typeof ActivePolicyView>>>(true);
check<z.output<typeof ActivePolicyView> extends Console.ActivePolicy ? true : false>(true);
check<PolicyChange extends Console.PolicyChange ? true : false>(true);
check<Same<keyof Console.PolicyEvaluation, keyof PolicyEvaluation>>(true);
check<PolicyEvaluation extends Console.PolicyEvaluation ? true : false>(true);
check<Same<keyof Console.PolicyReplay, keyof PolicyReplay>>(true);
check<PolicyReplay extends Console.PolicyReplay ? true : false>(true);
check<Same<keyof Console.ReplayChange, keyof PolicyReplay['items'][number]>>(true);
// What the console sends is accepted as-is.
check<Console.ApplyPolicyInput extends z.input<typeof ApplyPolicyBody> ? true : false>(true);
check<Console.RollbackPolicyInput extends z.input<typeof RollbackPolicyBody> ? true : false>(true);
check<Console.EvaluateInput extends z.input<typeof EvaluatePolicyBody> ? true : false>(true);
check<Console.ReplayInput extends z.input<typeof ReplayPolicyBody> ? true : false>(true);

test('every policy route the console calls exists, for admins', () => {
  const routes = new Map(ROUTES.map((r) => [`${r.method} ${r.url}`, r.auth]));
  for (const call of [
    'GET /v1/policy',
    'GET /v1/policy/versions',
    'GET /v1/policy/versions/:version',
    'POST /v1/policy/versions',
    'POST /v1/policy/rollback',
    'POST /v1/policy/evaluate',
    'POST /v1/policy/replay',
  ]) {
    assert.equal(routes.get(call), 'admin', call);
  }
});
