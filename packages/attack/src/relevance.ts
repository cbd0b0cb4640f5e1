import type { MemoryAuditSink } from '@ape/audit';
import type { PolicyEvaluator } from '@ape/core';
import { matchesActionPattern, type PolicyDefinition } from '@ape/policy';
import type { AttackScenario } from './types.js';

/**
 * @internal The action ids and patterns a policy names (its `actions` catalogue and every pattern
 * of its rules and limits, overlays included), or `undefined` for an evaluator without a
 * definition (then every scenario applies).
 */
export function namedActions(policy: PolicyEvaluator): readonly string[] | undefined {
  const definition = (policy as { definition?: PolicyDefinition }).definition;
  if (definition === undefined) return undefined;
  const names = new Set<string>(definition.catalogue ?? []);
  for (const layer of [definition.base, ...definition.tenants]) {
    for (const rule of layer.rules) for (const pattern of rule.actions) names.add(pattern);
    for (const limit of layer.limits) for (const pattern of limit.actions) names.add(pattern);
  }
  return [...names];
}

/**
 * @internal Whether a scenario tests the policy at all: a `policy`-layer row whose harmful actions
 * the policy never names is stopped by default deny whatever the policy says, so it does not apply.
 * Runtime and authority scenarios, procedures and evaluators without a definition always apply.
 */
export function appliesTo(scenario: AttackScenario, named: readonly string[] | undefined): boolean {
  if (named === undefined || scenario.layer !== 'policy' || !('steps' in scenario)) return true;
  const harmful = scenario.steps.filter((step) => step.role === 'harmful').map((step) => step.action);
  return harmful.some((action) => named.some((pattern) => matchesActionPattern(pattern, action)));
}

/**
 * @internal The rule ids (and first reason) of the decisions that let a harmful tool run: every
 * `decision.made` record of the scenario's sessions for one of `actions` that was ALLOW or ESCALATE.
 */
export function permittingRules(
  sinks: readonly MemoryAuditSink[],
  actions: readonly string[],
): { readonly rules: readonly string[]; readonly reason: string | undefined } {
  const rules = new Set<string>();
  let reason: string | undefined;
  for (const sink of sinks) {
    for (const record of sink.records()) {
      if (record.type !== 'decision.made') continue;
      const { action, decision } = record.data as { action?: unknown; decision?: unknown };
      if (typeof action !== 'string' || !actions.includes(action)) continue;
      if (decision !== 'ALLOW' && decision !== 'ESCALATE') continue;
      const ids = (record.data as { rules?: unknown }).rules;
      if (Array.isArray(ids)) for (const id of ids) rules.add(String(id));
      const text = (record.data as { reason?: unknown }).reason;
      reason ??= typeof text === 'string' ? text : undefined;
    }
  }
  return { rules: [...rules], reason };
}
