import type { ActionRequest, Decision } from '@ape/core';
import { canonicalJson } from '@ape/core';
import { baseTenant } from './checks.js';
import { candidateRequests } from './diff-candidates.js';
import { ACTION, type Approximation, and, encodePolicies, not, or } from './encode.js';
import { anyPatternMatches, isGlob } from './glob.js';
import type { VerifiablePolicy } from './load.js';
import { exportPolicyModel, type PolicyModel } from './model.js';
import { openSession } from './solver.js';
import { smtString } from './smt-text.js';
import { witnessRequest } from './witness.js';

/** One difference: a call one policy treats more permissively than the other, confirmed by both evaluators. */
export interface PolicyDifference {
  /** The action the difference is grouped under (an unknown action stands for every other id). */
  readonly action: string;
  /** A concrete request showing it: `simulate` of the two policies gives `decisions`. */
  readonly witness: ActionRequest;
  /** The decisions of the two compiled policies for the witness. */
  readonly decisions: { readonly a: Decision; readonly b: Decision };
}

/**
 * An action whose comparison was not decided in one direction: the solver gave up, or the only
 * candidate it found lies where an approximated condition (a URL, a non-canonical path, an
 * unencoded keyword) is not exact and the real evaluators decide it alike. Never a difference.
 */
export interface UndecidedComparison {
  /** The action (`*` for every id neither policy names). */
  readonly action: string;
  /** The direction that was not decided: could `a` (`onlyA`) or `b` (`onlyB`) be more permissive? */
  readonly direction: 'onlyA' | 'onlyB';
  /** Why, in one sentence. */
  readonly reason: string;
}

/** The result of {@link diffPolicies}. */
export interface PolicyDiff {
  /** True only when it is proved that every request gets the same decision from both policies. */
  readonly equivalent: boolean;
  /** Requests `a` treats more permissively than `b` (ALLOW over ESCALATE or DENY, ESCALATE over DENY), one per action. */
  readonly onlyA: readonly PolicyDifference[];
  /** Requests `b` treats more permissively than `a`, one per action. */
  readonly onlyB: readonly PolicyDifference[];
  /** Comparisons neither proved equal nor shown different (see {@link UndecidedComparison}). */
  readonly unknown: readonly UndecidedComparison[];
  /** Conditions the encoding could not express exactly. */
  readonly approximations: readonly Approximation[];
}

const RANK: Readonly<Record<Decision, number>> = { DENY: 0, ESCALATE: 1, ALLOW: 2 };

/** Every action id either policy names (`*` stands for all the others). */
const OTHER_ACTIONS = '*';

/**
 * The part of a model that can decide a call of `action` (`*`: of an action neither policy names):
 * the rules and limits whose patterns can match it, the transitions that can refuse it, and every
 * tenant overlay. Everything left out is `false` for such a call, so the encoding is unchanged.
 */
function relevantPart(model: PolicyModel, action: string): PolicyModel {
  const matches = (patterns: readonly string[]): boolean =>
    action === OTHER_ACTIONS ? patterns.some(isGlob) : anyPatternMatches(patterns, action);
  return {
    ...model,
    rules: model.rules.filter((rule) => matches(rule.actions)),
    limits: model.limits.filter((limit) => matches(limit.actions)),
    transitions: model.transitions.filter(
      (transition) => action === OTHER_ACTIONS || !anyPatternMatches(transition.followers, action),
    ),
  };
}

/**
 * What decides a call of `action`, with ids and rule order left out: two policies with the same
 * shape decide every such call alike, so the solver is not asked.
 */
function decidingShape(model: PolicyModel, action: string): string {
  const sorted = (items: unknown[]): string[] => items.map((item) => canonicalJson(item)).sort();
  const patterns = (list: readonly string[]): unknown =>
    action === OTHER_ACTIONS ? [...new Set(list)].sort() : null;
  return canonicalJson({
    rules: sorted(
      model.rules.map((rule) => [
        rule.tenant,
        rule.effect,
        patterns(rule.actions),
        rule.provenance === null ? null : [...new Set(rule.provenance)].sort(),
        rule.args,
      ]),
    ),
    limits: sorted(
      model.limits.map((limit) => [
        limit.tenant,
        [...new Set(limit.actions)].sort(),
        limit.maxCalls,
        limit.scope,
        limit.windowMs,
      ]),
    ),
    transitions: sorted(
      model.transitions.map((transition) => [
        transition.tenant,
        transition.from,
        [...new Set(transition.followers)].sort(),
      ]),
    ),
    tenants: sorted(
      model.tenants.map((tenant) => [
        tenant.id,
        tenant.allowedActions === null
          ? null
          : action === OTHER_ACTIONS
            ? [...new Set(tenant.allowedActions)].sort()
            : anyPatternMatches(tenant.allowedActions, action),
      ]),
    ),
  });
}

/** The least and most permissive decisions `model` may give a call of `action` (an over-approximation). */
function decisionRange(model: PolicyModel, action: string): { low: number; high: number } {
  const name = action === OTHER_ACTIONS || !model.ACTIONS.includes(action) ? model.OTHER : action;
  let low = RANK.ALLOW;
  let high = RANK.DENY;
  for (const row of model.decisions) {
    if (row.action !== name) continue;
    for (const decision of row.decisions) {
      low = Math.min(low, RANK[decision]);
      high = Math.max(high, RANK[decision]);
    }
  }
  return { low, high };
}

/**
 * The semantic difference of two policies, per action (each known id, plus one comparison for all
 * other ids) and per direction. Exact shortcuts come first: an action whose deciding rules, limits,
 * transitions and tenant overlays are the same in both policies is equal; a direction in which one
 * policy's most permissive decision cannot exceed the other's least is closed. Then both policies
 * evaluate concrete candidate requests (the values the rules name, every tenant, label, budget and
 * previous action): a difference they show is reported, and when the rules have no argument
 * condition and no transition can refuse the action, the candidates cover every case and decide
 * it exactly. Otherwise Z3 searches
 * the action's part of both policies over every tenant, label, argument and session. A model is
 * turned into a request and evaluated by both compiled policies: only a difference they confirm
 * is reported. A candidate they do not confirm (an approximated condition) is searched for again
 * where every approximation is exact; if none is found there, the comparison is `unknown`, never a
 * difference. `equivalent` is true only when the solver proved every comparison equal.
 *
 * @throws ApeError (`INTERNAL`) when the solver cannot start or rejects the encoding.
 */
export async function diffPolicies(a: VerifiablePolicy, b: VerifiablePolicy): Promise<PolicyDiff> {
  const modelA = exportPolicyModel(a);
  const modelB = exportPolicyModel(b);
  const actions = [...new Set([...modelA.ACTIONS, ...modelB.ACTIONS])].sort();
  const onlyA: PolicyDifference[] = [];
  const onlyB: PolicyDifference[] = [];
  const unknown: UndecidedComparison[] = [];
  const approximations = new Map<string, Approximation>();
  const tenants = [...modelA.tenants, ...modelB.tenants];
  const tenantForBase = baseTenant({ ...modelA, tenants });
  const more = (x: string, y: string): string =>
    or(and(`${x}allow`, not(`${y}allow`)), and(`${x}escalate`, `${y}deny`));
  for (const action of [...actions, OTHER_ACTIONS]) {
    const partA = relevantPart(modelA, action);
    const partB = relevantPart(modelB, action);
    if (decidingShape(partA, action) === decidingShape(partB, action)) continue;
    const rangeA = decisionRange(modelA, action);
    const rangeB = decisionRange(modelB, action);
    // A direction is open only when one policy may give more than the other's least.
    const open = { onlyA: rangeA.high > rangeB.low, onlyB: rangeB.high > rangeA.low };
    if (!open.onlyA && !open.onlyB) continue;
    const candidates = candidateRequests([partA, partB], action, actions, tenantForBase);
    const found = { onlyA: false, onlyB: false };
    for (const witness of candidates.requests) {
      if (found.onlyA === open.onlyA && found.onlyB === open.onlyB) break;
      const decisions = { a: a.policy.evaluate(witness).decision, b: b.policy.evaluate(witness).decision };
      const direction =
        RANK[decisions.a] > RANK[decisions.b]
          ? 'onlyA'
          : RANK[decisions.b] > RANK[decisions.a]
            ? 'onlyB'
            : undefined;
      if (direction === undefined || found[direction]) continue;
      found[direction] = true;
      (direction === 'onlyA' ? onlyA : onlyB).push({ action: witness.action, witness, decisions });
    }
    // What the candidates covered exactly, or found, needs no solver.
    if (candidates.exhaustive) continue;
    if (found.onlyA) open.onlyA = false;
    if (found.onlyB) open.onlyB = false;
    if (!open.onlyA && !open.onlyB) continue;
    const policies = [
      { prefix: 'a_', model: partA },
      { prefix: 'b_', model: partB },
    ];
    const encoding = encodePolicies(policies);
    for (const entry of encoding.approximations) approximations.set(canonicalJson(entry), entry);
    const group =
      action === OTHER_ACTIONS
        ? and(...actions.map((known) => not(`(= ${ACTION} ${smtString(known)})`)))
        : `(= ${ACTION} ${smtString(action)})`;
    const session = await openSession(encoding.preamble);
    try {
      for (const [from, to, list, direction] of [
        ['a_', 'b_', onlyA, 'onlyA'],
        ['b_', 'a_', onlyB, 'onlyB'],
      ] as const) {
        if (!open[direction]) continue;
        const confirm = (values: Parameters<typeof witnessRequest>[1]): PolicyDifference | undefined => {
          let witness = witnessRequest(encoding, values, policies);
          if (!tenants.some((tenant) => tenant.id === witness.tenant)) {
            witness = { ...witness, tenant: tenantForBase };
          }
          const decisions = {
            a: a.policy.evaluate(witness).decision,
            b: b.policy.evaluate(witness).decision,
          };
          const confirmed =
            from === 'a_' ? RANK[decisions.a] > RANK[decisions.b] : RANK[decisions.b] > RANK[decisions.a];
          return confirmed
            ? { action: action === OTHER_ACTIONS ? witness.action : action, witness, decisions }
            : undefined;
        };
        const question = and(group, more(from, to));
        const first = await session.check(question, encoding.requestTerms);
        if (first.answer === 'unsat') continue;
        const found = first.answer === 'sat' ? confirm(first.values) : undefined;
        if (found !== undefined) {
          list.push(found);
          continue;
        }
        // Search again where every approximated condition is exact (case by case): a model there
        // is a real call.
        let refound: PolicyDifference | undefined;
        let gaveUp = first.answer === 'unknown';
        for (const exactCase of encoding.exactCases) {
          const exact = await session.check(and(question, exactCase), encoding.requestTerms);
          if (exact.answer === 'unknown') gaveUp = true;
          refound = exact.answer === 'sat' ? confirm(exact.values) : undefined;
          if (refound !== undefined) break;
        }
        if (refound !== undefined) {
          list.push(refound);
          continue;
        }
        unknown.push({
          action,
          direction,
          reason: gaveUp
            ? 'the solver gave up (timeout or an undecidable string constraint)'
            : 'a difference is possible only where an approximated condition is not exact (see approximations), and none was confirmed',
        });
      }
    } finally {
      session.close();
    }
  }
  return {
    equivalent: onlyA.length === 0 && onlyB.length === 0 && unknown.length === 0,
    onlyA,
    onlyB,
    unknown,
    approximations: [...approximations.values()],
  };
}
