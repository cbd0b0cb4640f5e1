import type { Decision, ProvenanceLabel } from '@ape/core';
import { PROVENANCE_LABELS } from '@ape/core';
import type { RuleEffect } from '@ape/policy';
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

/** A per-session call budget. */
export interface ModelLimit {
  readonly id: string;
  readonly tenant: string | null;
  readonly actions: readonly string[];
  readonly maxCalls: number;
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

type Json = Readonly<Record<string, unknown>>;

const LISTS = [
  ['allowed_actions', 'allow'],
  ['forbidden_actions', 'deny'],
  ['escalation_required', 'escalate'],
] as const;

function layerRules(source: Json, tenant: string | null): ModelRule[] {
  const prefix = tenant === null ? '' : `tenants.${tenant}.`;
  const rules: ModelRule[] = [];
  for (const [list, effect] of LISTS) {
    if (tenant !== null && list === 'allowed_actions') continue;
    const patterns = (source[list] as readonly string[] | undefined) ?? [];
    patterns.forEach((pattern, index) => {
      rules.push({
        id: `${prefix}${list}[${index}]`,
        tenant,
        effect,
        actions: [pattern],
        provenance: null,
        args: null,
      });
    });
  }
  for (const rule of (source['rules'] as readonly Json[] | undefined) ?? []) {
    const when = rule['when'] as Json | undefined;
    rules.push({
      id: rule['id'] as string,
      tenant,
      effect: rule['effect'] as RuleEffect,
      actions: [...(rule['actions'] as readonly string[])],
      provenance: when?.['provenance'] === undefined ? null : [...(when['provenance'] as ProvenanceLabel[])],
      args: when?.['args'] === undefined ? null : when['args'],
    });
  }
  return rules;
}

function layerLimits(source: Json, tenant: string | null): ModelLimit[] {
  const prefix = tenant === null ? '' : `tenants.${tenant}.`;
  return ((source['limits'] as readonly Json[] | undefined) ?? []).map((limit, index) => ({
    id: (limit['id'] as string | undefined) ?? `${prefix}limits[${index}]`,
    tenant,
    actions: [...(limit['actions'] as readonly string[])],
    maxCalls: limit['max_calls'] as number,
  }));
}

function layerTransitions(source: Json, tenant: string | null): ModelTransition[] {
  const prefix = tenant === null ? '' : `tenants.${tenant}.`;
  const transitions = (source['tool_transitions'] ?? {}) as Readonly<Record<string, readonly string[]>>;
  return Object.keys(transitions).map((from) => ({
    id: `${prefix}tool_transitions.${from}`,
    tenant,
    from,
    followers: [...transitions[from]!],
  }));
}

/** @internal Builds the model's parts from a normalised policy document. */
export function modelParts(document: Json): {
  rules: ModelRule[];
  limits: ModelLimit[];
  transitions: ModelTransition[];
  tenants: ModelTenant[];
  catalogue: readonly string[];
} {
  const rules = layerRules(document, null);
  const limits = layerLimits(document, null);
  const transitions = layerTransitions(document, null);
  const tenants: ModelTenant[] = [];
  const overlays = (document['tenants'] ?? {}) as Readonly<Record<string, Json>>;
  for (const id of Object.keys(overlays).sort()) {
    const overlay = overlays[id]!;
    rules.push(...layerRules(overlay, id));
    limits.push(...layerLimits(overlay, id));
    transitions.push(...layerTransitions(overlay, id));
    const allowed = overlay['allowed_actions'] as readonly string[] | undefined;
    tenants.push({ id, allowedActions: allowed === undefined ? null : [...allowed] });
  }
  return {
    rules,
    limits,
    transitions,
    tenants,
    catalogue: (document['actions'] as readonly string[] | undefined) ?? [],
  };
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
  const parts = modelParts(verifiable.document);
  return createPolicyModel({
    name: verifiable.policy.name,
    digest: verifiable.policy.digest,
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
