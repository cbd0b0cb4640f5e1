import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { ActionRequest, Decision, PolicyDecision } from '../types.js';

/** Options of {@link createStubPolicy}. */
export interface StubPolicyOptions {
  /** A fixed decision per action id; actions not listed are DENY (default deny). */
  readonly decisions?: Readonly<Record<string, Decision>>;
  /** Decides each request; takes precedence over `decisions`. May throw, to test fail-closed paths. */
  readonly decide?: (request: ActionRequest) => Decision | PolicyDecision;
  /** The digest every decision carries (default `stub-policy`). */
  readonly digest?: string;
  /** Overrides `mayPermit` (default: true unless `decisions` says DENY or does not list the action). */
  readonly mayPermit?: (tenant: string, action: string) => boolean;
}

/** A {@link PolicyEvaluator} test double that also records every request it was asked. */
export interface StubPolicy extends PolicyEvaluator {
  readonly requests: readonly ActionRequest[];
}

/**
 * A policy test double: fixed decisions per action, or a function. Decisions carry the rule id
 * `stub:<action>`. Use the real `@ape/policy` in integration tests.
 */
export function createStubPolicy(options: StubPolicyOptions = {}): StubPolicy {
  const requests: ActionRequest[] = [];
  const digest = options.digest ?? 'stub-policy';
  const decisions = options.decisions ?? {};
  const toDecision = (request: ActionRequest, answer: Decision | PolicyDecision): PolicyDecision =>
    typeof answer === 'string'
      ? {
          decision: answer,
          rules: [`stub:${request.action}`],
          reason: `stub policy: ${answer}`,
          policy: digest,
        }
      : answer;
  return {
    digest,
    get requests(): readonly ActionRequest[] {
      return requests;
    },
    evaluate(request: ActionRequest): PolicyDecision {
      requests.push(request);
      if (options.decide !== undefined) return toDecision(request, options.decide(request));
      const fixed = Object.hasOwn(decisions, request.action) ? decisions[request.action] : undefined;
      return toDecision(request, fixed ?? 'DENY');
    },
    mayPermit(tenant: string, action: string): boolean {
      if (options.mayPermit !== undefined) return options.mayPermit(tenant, action);
      if (options.decide !== undefined) return true;
      return Object.hasOwn(decisions, action) && decisions[action] !== 'DENY';
    },
  };
}
