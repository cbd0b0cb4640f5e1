import type { Decision, ProvenanceLabel, UsageScope } from '@ape/core';
import { PROVENANCE_LABELS } from '@ape/core';
import type { PolicyDefinition, RuleEffect } from '@ape/policy';
import { isGlob, patternMatches } from './glob.js';
import type { VerifiablePolicy } from './load.js';

/** One rule of a {@link PolicyModel}: list entries become unconditional rules with synthetic ids. */
export interface ModelRule {
  readonly id: string;
  /** The tenant overlay the rule belongs to, or `null` for the base policy. */
  readonly tenant: string | null;
  readonly effect: RuleEffect;
  /** Exact action ids or globs. */
  readonly actions: readonly string[];
  /** The provenance condition, or `null` when the rule has none. */
  readonly provenance: readonly ProvenanceLabel[] | null;
  /** The JSON Schema over the call's arguments, or `null` when the rule has none. */
  readonly args: unknown;
}

/**
 * A call budget. Its counter is free in the model (any number of earlier uses), whatever its scope
 * and window: a budget of 0 makes its actions impossible, any other budget never changes whether a
 * single call can be reached. Scope and window decide who shares the counter and for how long.
 */
export interface ModelLimit {
  readonly id: string;
  readonly tenant: string | null;
  readonly actions: readonly string[];
  readonly maxCalls: number;
  /** Who shares the budget (`session` when the policy does not say). */
  readonly scope: UsageScope;
  /** The sliding window in milliseconds, or `null` when uses never expire. */
  readonly windowMs: number | null;
}

/** The actions that may directly follow `from` (a `tool_transitions` entry). */
export interface ModelTransition {
  readonly id: string;
  readonly tenant: string | null;
  readonly from: string;
  readonly followers: readonly string[];
}

/** A tenant overlay; `allowedActions` is its filter (`null`: no filter). */
export interface ModelTenant {
  readonly id: string;
  readonly allowedActions: readonly string[] | null;
}

/**
 * The decisions a call may get, at the level of actions and provenance (argument conditions, limits
 * and transitions abstracted away): every decision some call of `action` with `provenance` by
 * `tenant` could get. `tenant` is `null` for the base policy (any tenant without an overlay).
 */
export interface DecisionRow {
  readonly tenant: string | null;
  readonly action: string;
  readonly provenance: ProvenanceLabel;
  readonly decisions: readonly Decision[];
}

/**
 * The verification model of a policy. `ACTIONS`, `ALLOW`, `DENY` and `ESCALATE` keep the seed's
 * shape (sorted action ids); the rest carries the conditional rules, limits, transitions and tenant
 * overlays the SMT encoding reads.
 */
export interface PolicyModel {
  readonly name: string;
  readonly digest: string;
  /** Every known action id: the catalogue (`actions`) and every exact id a rule names, sorted. */
  readonly ACTIONS: readonly string[];
  /** Actions some base allow rule (list entry or conditional rule) may allow. */
  readonly ALLOW: readonly string[];
  /** Actions a base rule always denies (unconditional deny). */
  readonly DENY: readonly string[];
  /** Actions some base escalate rule (list entry or conditional rule) may send to a human. */
  readonly ESCALATE: readonly string[];
  /** An action id outside `ACTIONS`, standing for every unknown action in the exports. */
  readonly OTHER: string;
  readonly rules: readonly ModelRule[];
  readonly limits: readonly ModelLimit[];
  readonly transitions: readonly ModelTransition[];
  readonly tenants: readonly ModelTenant[];
  /** The action-level abstraction of the decisions (see {@link DecisionRow}). */
  readonly decisions: readonly DecisionRow[];
}

/** @internal The model's parts, read from @ape/policy's rule model (base first, then overlays by id). */
export function modelParts(definition: PolicyDefinition): {
  rules: ModelRule[];
  limits: ModelLimit[];
  transitions: ModelTransition[];
  tenants: ModelTenant[];
  catalogue: readonly string[];
} {
  const layers = [
    definition.base,
    ...[...definition.tenants].sort((left, right) => (left.tenant! < right.tenant! ? -1 : 1)),
  ];
  const rules: ModelRule[] = [];
  const limits: ModelLimit[] = [];
  const transitions: ModelTransition[] = [];
  const tenants: ModelTenant[] = [];
  for (const layer of layers) {
    for (const rule of layer.rules) {
      rules.push({
        id: rule.id,
        tenant: rule.tenant,
        effect: rule.effect,
        actions: [...rule.actions],
        provenance: rule.when?.provenance === undefined ? null : [...rule.when.provenance],
        args: rule.when?.args === undefined ? null : rule.when.args,
      });
    }
    for (const limit of layer.limits) {
      limits.push({
        id: limit.id,
        tenant: limit.tenant,
        actions: [...limit.actions],
        maxCalls: limit.maxCalls,
        scope: limit.scope,
        windowMs: limit.windowMs ?? null,
      });
    }
    for (const transition of layer.transitions) {
      transitions.push({
        id: transition.id,
        tenant: transition.tenant,
        from: transition.from,
        followers: [...transition.followers],
      });
    }
    if (layer.tenant !== null) {
      tenants.push({
        id: layer.tenant,
        allowedActions: layer.filter === undefined ? null : [...layer.filter.actions],
      });
    }
  }
  return { rules, limits, transitions, tenants, catalogue: definition.catalogue ?? [] };
}

/**
 * Builds a model from its parts: the action-level sets and the decision abstraction are derived
 * from the rules. Used by {@link exportPolicyModel}; also lets tests and tools check hand-made
 * models.
 */
export function createPolicyModel(parts: {
  readonly name: string;
  readonly digest: string;
  readonly catalogue?: readonly string[];
  readonly rules: readonly ModelRule[];
  readonly limits?: readonly ModelLimit[];
  readonly transitions?: readonly ModelTransition[];
  readonly tenants?: readonly ModelTenant[];
}): PolicyModel {
  const limits = parts.limits ?? [];
  const transitions = parts.transitions ?? [];
  const tenants = parts.tenants ?? [];
  const known = new Set<string>(parts.catalogue ?? []);
  const addExact = (pattern: string): void => {
    if (!isGlob(pattern)) known.add(pattern);
  };
  for (const rule of parts.rules) rule.actions.forEach(addExact);
  for (const limit of limits) limit.actions.forEach(addExact);
  for (const transition of transitions) {
    addExact(transition.from);
    transition.followers.forEach(addExact);
  }
  for (const tenant of tenants) tenant.allowedActions?.forEach(addExact);
  const ACTIONS = [...known].sort();
  const base = parts.rules.filter((rule) => rule.tenant === null);
  const select = (effect: RuleEffect, unconditional: boolean): string[] =>
    ACTIONS.filter((action) =>
      base.some(
        (rule) =>
          rule.effect === effect &&
          (!unconditional || (rule.provenance === null && rule.args === null)) &&
          rule.actions.some((pattern) => patternMatches(pattern, action)),
      ),
    );
  let OTHER = 'ape.other_action';
  while (known.has(OTHER)) OTHER = `${OTHER}_`;
  const model = {
    name: parts.name,
    digest: parts.digest,
    ACTIONS,
    ALLOW: select('allow', false),
    DENY: select('deny', true),
    ESCALATE: select('escalate', false),
    OTHER,
    rules: parts.rules,
    limits,
    transitions,
    tenants,
    decisions: [] as DecisionRow[],
  };
  model.decisions = decisionTable(model);
  return model;
}

/**
 * The verification model of a policy: the seed's `{ ACTIONS, ALLOW, DENY, ESCALATE }` (sorted,
 * action-level) extended with the conditional rules, limits, transitions, tenant overlays and the
 * action-level decision table. Plain JSON: `JSON.stringify` gives the `--export json` file.
 */
export function exportPolicyModel(verifiable: VerifiablePolicy): PolicyModel {
  const parts = modelParts(verifiable.definition);
  return createPolicyModel({
    name: verifiable.definition.name,
    digest: verifiable.definition.digest,
    catalogue: parts.catalogue,
    rules: parts.rules,
    limits: parts.limits,
    transitions: parts.transitions,
    tenants: parts.tenants,
  });
}

/** How surely something applies to every call of an (abstract) action. */
enum Applies {
  Never = 0,
  Maybe = 1,
  Always = 2,
}

function patternApplies(patterns: readonly string[], action: string, other: boolean): Applies {
  if (other) return patterns.some(isGlob) ? Applies.Maybe : Applies.Never;
  return patterns.some((pattern) => patternMatches(pattern, action)) ? Applies.Always : Applies.Never;
}

function strongest(values: readonly Applies[]): Applies {
  return values.reduce((best, value) => Math.max(value, best), Applies.Never);
}

/** @internal The action-level decision abstraction for every scope, action and label. */
export function decisionTable(model: Omit<PolicyModel, 'decisions'>): DecisionRow[] {
  const rows: DecisionRow[] = [];
  const scopes: (string | null)[] = [null, ...model.tenants.map((tenant) => tenant.id)];
  for (const scope of scopes) {
    const tenant = model.tenants.find((entry) => entry.id === scope);
    const rules = model.rules.filter((rule) => rule.tenant === null || rule.tenant === scope);
    const limits = model.limits.filter((limit) => limit.tenant === null || limit.tenant === scope);
    const transitions = model.transitions.filter(
      (transition) => transition.tenant === null || transition.tenant === scope,
    );
    for (const action of [...model.ACTIONS, model.OTHER]) {
      const other = action === model.OTHER;
      for (const provenance of PROVENANCE_LABELS) {
        const status = (rule: ModelRule): Applies => {
          if (rule.provenance !== null && !rule.provenance.includes(provenance)) return Applies.Never;
          const pattern = patternApplies(rule.actions, action, other);
          return rule.args === null ? pattern : Math.min(pattern, Applies.Maybe);
        };
        const of = (effect: RuleEffect, base: boolean | undefined): Applies =>
          strongest(
            rules
              .filter(
                (rule) => rule.effect === effect && (base === undefined || (rule.tenant === null) === base),
              )
              .map(status),
          );
        const allowedActions = tenant?.allowedActions ?? null;
        const filterApplies =
          allowedActions === null
            ? Applies.Never
            : Applies.Always - patternApplies(allowedActions, action, other);
        const limitApplies = strongest(
          limits.map((limit) => {
            const matched = patternApplies(limit.actions, action, other);
            if (matched === Applies.Never) return Applies.Never;
            return limit.maxCalls === 0 ? matched : Applies.Maybe;
          }),
        );
        const transitionApplies = transitions.some(
          (transition) => patternApplies(transition.followers, action, other) !== Applies.Always,
        )
          ? Applies.Maybe
          : Applies.Never;
        const deny = strongest([of('deny', undefined), filterApplies, limitApplies, transitionApplies]);
        const allow = of('allow', undefined);
        const baseEscalate = of('escalate', true);
        const tenantEscalate = of('escalate', false);
        const decisions: Decision[] = [];
        if (deny !== Applies.Always) {
          const escalates = Math.max(baseEscalate, Math.min(tenantEscalate, allow));
          if (allow !== Applies.Never && escalates !== Applies.Always) decisions.push('ALLOW');
          if (escalates !== Applies.Never) decisions.push('ESCALATE');
          if (deny === Applies.Maybe || Math.max(baseEscalate, allow) !== Applies.Always)
            decisions.push('DENY');
        } else {
          decisions.push('DENY');
        }
        rows.push({ tenant: scope, action, provenance, decisions });
      }
    }
  }
  return rows;
}
