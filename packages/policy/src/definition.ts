import { deepFreeze, type ProvenanceLabel, type UsageScope } from '@ape/core';
import { childPath } from './findings.js';
import { isActionPattern } from './glob.js';
import type { FindingSink } from './finding-sink.js';
import type { RuleEffect } from './types.js';
import { MAX_LIMIT_WINDOW_MS, windowToMs } from './window.js';

/** Where a part of a policy was written: its JSON path, and the file, line and column when known. */
export interface SourceLocation {
  /** JSON path in the document, such as `$.rules[2]` or `$.tenants.acme.limits[0]`. */
  readonly path: string;
  readonly file?: string;
  /** 1-based line, when the policy was read from text. */
  readonly line?: number;
  /** 1-based column, when the policy was read from text. */
  readonly column?: number;
}

/** The conditions of a rule; it applies only when every one of them holds. */
export interface RuleConditions {
  /** A JSON Schema (draft 2020-12, with `x-ape-path`, `x-ape-url`, `x-ape-provenance`) over the call's arguments. */
  readonly args?: Readonly<Record<string, unknown>>;
  /** The labels the call's effective provenance may have. */
  readonly provenance?: readonly ProvenanceLabel[];
}

/**
 * One rule. List entries (`allowed_actions`, `forbidden_actions`, `escalation_required`) become
 * unconditional rules with one pattern and the synthetic id `<list>[i]` (`tenants.<t>.<list>[i]`
 * in an overlay); `rules` entries keep their own id.
 */
export interface RuleDefinition {
  readonly id: string;
  /** The tenant overlay the rule belongs to, or `null` for the base policy. */
  readonly tenant: string | null;
  readonly effect: RuleEffect;
  /** Exact action ids or globs (see `isActionGlob`). */
  readonly actions: readonly string[];
  /** `undefined` when the rule has no `when`. */
  readonly when: RuleConditions | undefined;
  readonly reason: string | undefined;
  /** Whether the rule is a list entry or an entry of `rules`. */
  readonly origin: 'list' | 'rule';
  readonly source: SourceLocation;
}

/** One call budget (`limits[i]`); its id is its own or the synthetic `limits[i]`. */
export interface LimitDefinition {
  readonly id: string;
  readonly tenant: string | null;
  readonly actions: readonly string[];
  /** Uses allowed per scope (and per window); 0 makes the actions impossible. */
  readonly maxCalls: number;
  /** Who shares the budget; `session` when the policy does not say. */
  readonly scope: UsageScope;
  /** The window as written (`1h`), when the limit has one. */
  readonly window: string | undefined;
  /** The window in milliseconds, when the limit has one. */
  readonly windowMs: number | undefined;
  readonly reason: string | undefined;
  readonly source: SourceLocation;
}

/** One `tool_transitions` entry: the actions that may directly follow `from`. Id `tool_transitions.<from>`. */
export interface TransitionDefinition {
  readonly id: string;
  readonly tenant: string | null;
  /** The previous action: an exact id or a glob. */
  readonly from: string;
  /** The patterns the next action must match; empty: nothing may follow. */
  readonly followers: readonly string[];
  readonly source: SourceLocation;
}

/** A tenant overlay's `allowed_actions`: the tenant may use only these actions. Id `tenants.<t>.allowed_actions`. */
export interface TenantFilterDefinition {
  readonly id: string;
  readonly tenant: string;
  readonly actions: readonly string[];
  readonly source: SourceLocation;
}

/** The base policy (`tenant: null`) or one tenant overlay. */
export interface PolicyLayer {
  readonly tenant: string | null;
  readonly rules: readonly RuleDefinition[];
  readonly limits: readonly LimitDefinition[];
  readonly transitions: readonly TransitionDefinition[];
  /** Only in an overlay that has `allowed_actions`. */
  readonly filter: TenantFilterDefinition | undefined;
  readonly source: SourceLocation;
}

/**
 * The normalised rule model of a policy: every rule, limit, transition and tenant overlay with its
 * id and where it was written, built once by the loader. The evaluator is compiled from it, and lint,
 * `explain`, `simulate` and `@ape/verify` all read it, so a rule of the language (how ids are made,
 * which lists an overlay may have, what a window means) lives in one place. Deeply frozen.
 */
export interface PolicyDefinition {
  readonly name: string;
  /** The digest of the compiled policy (sha256 of the canonical normalised document). */
  readonly digest: string;
  /** The action catalogue (`actions`), or `undefined` when the policy has none. */
  readonly catalogue: readonly string[] | undefined;
  readonly base: PolicyLayer;
  /** One layer per tenant overlay, in the order the document lists them. */
  readonly tenants: readonly PolicyLayer[];
}

type Json = Record<string, unknown>;

const LISTS = [
  ['allowed_actions', 'allow'],
  ['forbidden_actions', 'deny'],
  ['escalation_required', 'escalate'],
] as const;

/**
 * @internal Builds the layers of a document (base first, then each overlay). A window longer than
 * 366 days is a `SCHEMA` finding at the window. The document may have failed the schema: entries
 * of the wrong shape are left out (the schema already reported them), so the argument schemas and
 * the lint of everything else are still checked in the same run.
 */
export function collectLayers(root: Json, sink: FindingSink): PolicyLayer[] {
  const layers: PolicyLayer[] = [collectLayer(root, null, '$', sink)];
  const tenants = isRecord(root['tenants']) ? root['tenants'] : {};
  for (const tenant of Object.keys(tenants)) {
    const overlay = tenants[tenant];
    if (isRecord(overlay)) layers.push(collectLayer(overlay, tenant, childPath('$.tenants', tenant), sink));
  }
  for (const layer of layers) {
    for (const limit of layer.limits) {
      if (limit.windowMs !== undefined && limit.windowMs > MAX_LIMIT_WINDOW_MS) {
        sink.add(
          'error',
          'SCHEMA',
          `${limit.source.path}.window`,
          `the window ${limit.window} is longer than 366 days`,
          [limit.id],
        );
      }
    }
  }
  return layers;
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The entries of `value` that are valid action patterns, with their index (others are left out). */
function patternsOf(value: unknown): [string, number][] {
  if (!Array.isArray(value)) return [];
  const found: [string, number][] = [];
  value.forEach((item, index) => {
    if (isActionPattern(item)) found.push([item as string, index]);
  });
  return found;
}

const EFFECTS: ReadonlySet<unknown> = new Set(['allow', 'deny', 'escalate']);

function collectLayer(source: Json, tenant: string | null, path: string, sink: FindingSink): PolicyLayer {
  const prefix = tenant === null ? '' : `tenants.${tenant}.`;
  const at = (where: string): SourceLocation => sink.source(where);
  const rules: RuleDefinition[] = [];
  for (const [list, effect] of LISTS) {
    // An overlay's allowed_actions restricts the tenant (its filter); it never allows.
    if (tenant !== null && list === 'allowed_actions') continue;
    const entries = source[list];
    if (!Array.isArray(entries)) continue;
    const listPath = childPath(path, list);
    const idPrefix = prefix + list;
    for (let index = 0; index < entries.length; index++) {
      const pattern: unknown = entries[index];
      if (!isActionPattern(pattern)) continue;
      rules.push({
        id: `${idPrefix}[${index}]`,
        tenant,
        effect,
        actions: [pattern as string],
        when: undefined,
        reason: undefined,
        origin: 'list',
        source: at(childPath(listPath, index)),
      });
    }
  }
  const ruleEntries = Array.isArray(source['rules']) ? (source['rules'] as unknown[]) : [];
  ruleEntries.forEach((rule, index) => {
    if (!isRecord(rule) || typeof rule['id'] !== 'string' || !EFFECTS.has(rule['effect'])) return;
    if (rule['when'] !== undefined && !isRecord(rule['when'])) return;
    const actions = patternsOf(rule['actions']).map(([pattern]) => pattern);
    if (actions.length === 0) return;
    rules.push({
      id: rule['id'],
      tenant,
      effect: rule['effect'] as RuleEffect,
      actions,
      when: rule['when'] as RuleConditions | undefined,
      reason: typeof rule['reason'] === 'string' ? rule['reason'] : undefined,
      origin: 'rule',
      source: at(childPath(childPath(path, 'rules'), index)),
    });
  });
  const limits: LimitDefinition[] = [];
  const limitEntries = Array.isArray(source['limits']) ? (source['limits'] as unknown[]) : [];
  limitEntries.forEach((limit, index) => {
    if (!isRecord(limit) || !Number.isInteger(limit['max_calls'])) return;
    const actions = patternsOf(limit['actions']).map(([pattern]) => pattern);
    if (actions.length === 0) return;
    const window = typeof limit['window'] === 'string' ? limit['window'] : undefined;
    limits.push({
      id: typeof limit['id'] === 'string' ? limit['id'] : `${prefix}limits[${index}]`,
      tenant,
      actions,
      maxCalls: limit['max_calls'] as number,
      scope: (limit['scope'] as UsageScope | undefined) ?? 'session',
      window,
      windowMs: window === undefined ? undefined : windowToMs(window),
      reason: typeof limit['reason'] === 'string' ? limit['reason'] : undefined,
      source: at(childPath(childPath(path, 'limits'), index)),
    });
  });
  const transitionSource = isRecord(source['tool_transitions']) ? source['tool_transitions'] : {};
  const transitions = Object.keys(transitionSource)
    .filter((from) => isActionPattern(from) && Array.isArray(transitionSource[from]))
    .map(
      (from): TransitionDefinition => ({
        id: `${prefix}tool_transitions.${from}`,
        tenant,
        from,
        followers: patternsOf(transitionSource[from]).map(([pattern]) => pattern),
        source: at(childPath(childPath(path, 'tool_transitions'), from)),
      }),
    );
  const filterPatterns =
    tenant === null || !Array.isArray(source['allowed_actions'])
      ? undefined
      : patternsOf(source['allowed_actions']).map(([pattern]) => pattern);
  const filter =
    tenant === null || filterPatterns === undefined
      ? undefined
      : {
          id: `${prefix}allowed_actions`,
          tenant,
          actions: filterPatterns,
          source: at(childPath(path, 'allowed_actions')),
        };
  return { tenant, rules, limits, transitions, filter, source: at(path) };
}

/**
 * @internal Deep-freezes what {@link collectLayers} built, object by object along the model's known
 * shape; only a rule's `when` (values taken from the document) is walked by `deepFreeze`. Walking
 * the whole model with `deepFreeze` reads a property descriptor per field, which was a quarter of
 * compiling a policy of 100,000 list entries. A test walks a compiled model generically and finds
 * every object frozen.
 */
export function freezeLayers(layers: readonly PolicyLayer[]): void {
  for (const layer of layers) {
    for (const rule of layer.rules) {
      Object.freeze(rule.actions);
      Object.freeze(rule.source);
      if (rule.when !== undefined) deepFreeze(rule.when);
      Object.freeze(rule);
    }
    for (const limit of layer.limits) {
      Object.freeze(limit.actions);
      Object.freeze(limit.source);
      Object.freeze(limit);
    }
    for (const transition of layer.transitions) {
      Object.freeze(transition.followers);
      Object.freeze(transition.source);
      Object.freeze(transition);
    }
    if (layer.filter !== undefined) {
      Object.freeze(layer.filter.actions);
      Object.freeze(layer.filter.source);
      Object.freeze(layer.filter);
    }
    Object.freeze(layer.rules);
    Object.freeze(layer.limits);
    Object.freeze(layer.transitions);
    Object.freeze(layer.source);
    Object.freeze(layer);
  }
}

/** @internal Every entry of `layers` that counts against the `maxRules` load limit. */
export function countRules(layers: readonly PolicyLayer[]): number {
  return layers.reduce(
    (sum, layer) => sum + layer.rules.length + layer.limits.length + layer.transitions.length,
    0,
  );
}
