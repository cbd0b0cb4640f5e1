import type { ActionRequest, Decision } from '@ape/core';
import { baseTenant } from './checks.js';
import { ACTION, type Approximation, and, encodePolicies, not, or } from './encode.js';
import type { VerifiablePolicy } from './load.js';
import { exportPolicyModel } from './model.js';
import { openSession } from './solver.js';
import { smtString } from './smt-text.js';
import { witnessRequest } from './witness.js';

/** One difference: a call one policy treats more permissively than the other. */
export interface PolicyDifference {
  /** The action the difference is grouped under (an unknown action stands for every other id). */
  readonly action: string;
  /** A concrete request showing it. */
  readonly witness: ActionRequest;
  /** The decisions of the two compiled policies for the witness. */
  readonly decisions: { readonly a: Decision; readonly b: Decision };
  /** Whether both compiled evaluators confirmed the difference (false: an approximation's artefact). */
  readonly confirmed: boolean;
}

/** The result of {@link diffPolicies}. */
export interface PolicyDiff {
  /** True when no request is decided more permissively by either policy. */
  readonly equivalent: boolean;
  /** Requests `a` treats more permissively than `b` (ALLOW over ESCALATE or DENY, ESCALATE over DENY), one per action. */
  readonly onlyA: readonly PolicyDifference[];
  /** Requests `b` treats more permissively than `a`, one per action. */
  readonly onlyB: readonly PolicyDifference[];
  /** Conditions the encoding could not express exactly. */
  readonly approximations: readonly Approximation[];
}

const RANK: Readonly<Record<Decision, number>> = { DENY: 0, ESCALATE: 1, ALLOW: 2 };

/**
 * The semantic difference of two policies: for every action (each known id, plus one query for
 * all other ids), a request that one policy decides more permissively than the other, found by Z3
 * over every tenant, label, argument and session, and re-evaluated with both compiled policies.
 * `equivalent` is true only when the solver proved no such request exists.
 *
 * @throws ApeError (`INTERNAL`) when the solver cannot start or rejects the encoding.
 */
export async function diffPolicies(a: VerifiablePolicy, b: VerifiablePolicy): Promise<PolicyDiff> {
  const modelA = exportPolicyModel(a);
  const modelB = exportPolicyModel(b);
  const policies = [
    { prefix: 'a_', model: modelA },
    { prefix: 'b_', model: modelB },
  ];
  const encoding = encodePolicies(policies);
  const session = await openSession(encoding.preamble);
  const actions = [...new Set([...modelA.ACTIONS, ...modelB.ACTIONS])].sort();
  const groups: { label: string; condition: string }[] = actions.map((action) => ({
    label: action,
    condition: `(= ${ACTION} ${smtString(action)})`,
  }));
  groups.push({
    label: '*',
    condition: and(...actions.map((action) => not(`(= ${ACTION} ${smtString(action)})`))),
  });
  const onlyA: PolicyDifference[] = [];
  const onlyB: PolicyDifference[] = [];
  let unproved = false;
  const more = (x: string, y: string): string =>
    or(and(`${x}allow`, not(`${y}allow`)), and(`${x}escalate`, `${y}deny`));
  const tenantForBase = baseTenant({ ...modelA, tenants: [...modelA.tenants, ...modelB.tenants] });
  try {
    for (const group of groups) {
      for (const [from, to, list] of [
        ['a_', 'b_', onlyA],
        ['b_', 'a_', onlyB],
      ] as const) {
        const result = await session.check(and(group.condition, more(from, to)), encoding.requestTerms);
        if (result.answer === 'unsat') continue;
        if (result.answer === 'unknown') {
          unproved = true;
          continue;
        }
        let witness = witnessRequest(encoding, result.values, policies);
        if (![...modelA.tenants, ...modelB.tenants].some((tenant) => tenant.id === witness.tenant)) {
          witness = { ...witness, tenant: tenantForBase };
        }
        const decisions = { a: a.policy.evaluate(witness).decision, b: b.policy.evaluate(witness).decision };
        const confirmed =
          from === 'a_' ? RANK[decisions.a] > RANK[decisions.b] : RANK[decisions.b] > RANK[decisions.a];
        if (!confirmed) unproved = true;
        list.push({
          action: group.label === '*' ? witness.action : group.label,
          witness,
          decisions,
          confirmed,
        });
      }
    }
  } finally {
    session.close();
  }
  return {
    equivalent: onlyA.length === 0 && onlyB.length === 0 && !unproved,
    onlyA,
    onlyB,
    approximations: encoding.approximations,
  };
}
