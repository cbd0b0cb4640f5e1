import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { UsageLimit } from '../ports/usage-store.js';
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
  /**
   * The usage limits per action id, served by `limitsFor` (the same frozen array per action). Absent:
   * the stub has no `limitsFor`, like a policy without limits.
   */
  readonly limits?: Readonly<Record<string, readonly UsageLimit[]>>;
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
  const limits = new Map<string, readonly UsageLimit[]>(
    Object.entries(options.limits ?? {}).map(([action, list]) => [action, Object.freeze([...list])]),
  );
  const none: readonly UsageLimit[] = Object.freeze([]);
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
    ...(options.limits === undefined
      ? {}
      : { limitsFor: (_tenant: string, action: string) => limits.get(action) ?? none }),
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
