import type { Decision } from '@ape/core';
import {
  type AuthorizationAnswer,
  type CedarValueJson,
  getCedarVersion,
  preparsePolicySet,
  type StatefulAuthorizationCall,
  statefulIsAuthorized,
} from '@cedar-policy/cedar-wasm/nodejs';

/** A pre-parsed Cedar policy set, asked through `statefulIsAuthorized` (the fastest Cedar path). */
export interface CedarEngine {
  /** Builds the call once, as a host would keep its request objects; not part of the timed work. */
  prepare(action: string, context?: Readonly<Record<string, CedarValueJson>>): StatefulAuthorizationCall;
  /** One authorisation, mapped to APE's three outcomes (an `@ape("escalate")` permit → ESCALATE). */
  decide(call: StatefulAuthorizationCall): Decision;
}

let nextSetId = 0;

/** The Cedar version the bindings report. */
export function cedarVersion(): string {
  return getCedarVersion();
}

/**
 * Pre-parses `policies` (Cedar text, one policy per line) into the bindings' thread-local cache.
 * Cedar names text policies `policy0`, `policy1`, … in order; the escalation ids are derived from that.
 * @throws Error when Cedar refuses the text.
 */
export function loadCedar(policies: string): CedarEngine {
  const setId = `bench-${nextSetId++}`;
  const answer = preparsePolicySet(setId, { staticPolicies: policies });
  if (answer.type !== 'success') {
    throw new Error(`Cedar refused the policies: ${answer.errors.map((error) => error.message).join('; ')}`);
  }
  const escalating = new Set<string>();
  policies.split('\n').forEach((line, index) => {
    if (line.startsWith('@ape("escalate")')) escalating.add(`policy${index}`);
  });
  return {
    prepare(action, context = {}) {
      return {
        principal: { type: 'Agent', id: 'agent' },
        action: { type: 'Action', id: action },
        resource: { type: 'Tool', id: 'tool' },
        context: { action, ...context },
        preparsedPolicySetId: setId,
        entities: [],
      };
    },
    decide(call) {
      return toDecision(statefulIsAuthorized(call), escalating);
    },
  };
}

function toDecision(answer: AuthorizationAnswer, escalating: ReadonlySet<string>): Decision {
  if (answer.type !== 'success' || answer.response.decision !== 'allow') return 'DENY';
  if (escalating.size > 0) {
    for (const id of answer.response.diagnostics.reason) if (escalating.has(id)) return 'ESCALATE';
  }
  return 'ALLOW';
}
