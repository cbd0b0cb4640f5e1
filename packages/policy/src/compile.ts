import { hashCanonical } from '@ape/core';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { compileArgumentSchemas } from './argument-schemas.js';
import {
  collectLayers,
  countRules,
  freezeLayers,
  type LimitDefinition,
  type PolicyDefinition,
  type PolicyLayer,
  type RuleDefinition,
  type TransitionDefinition,
} from './definition.js';
import {
  type CompiledFilter,
  type CompiledLimit,
  type CompiledRule,
  type CompiledTransition,
  createCompiledPolicy,
  PatternSet,
  PROVENANCE_BITS,
  type RuleSet,
} from './evaluator.js';
import { explainDefinition } from './explain.js';
import { FindingSink } from './finding-sink.js';
import { isActionPattern, isGlob, PatternIndex } from './glob.js';
import type { SourceMap } from './limits.js';
import { lintLayers } from './lint.js';
import { checkShape } from './shape.js';
import type { CompiledPolicy, PolicyFinding, PolicyLimits } from './types.js';

/** @internal The outcome of compiling a parsed document. */
export interface CompileOutcome {
  readonly findings: readonly PolicyFinding[];
  readonly policy?: CompiledPolicy;
}

type Json = Record<string, unknown>;

/**
 * @internal Compiles a parsed, prototype-free JSON document into a policy, or returns findings.
 * Never throws for bad documents. The steps: shape (schema), the policy model, load limits,
 * argument schemas, lint; then the evaluator's rule sets are built from the model.
 */
export function compileDocument(
  document: unknown,
  context: {
    readonly file: string | undefined;
    readonly sourceMap: SourceMap | undefined;
    readonly limits: PolicyLimits;
    readonly defaultName: string;
  },
): CompileOutcome {
  const sink = new FindingSink(context.file, context.sourceMap);
  const shapeValid = checkShape(document, sink);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return { findings: sink.findings };
  }
  const root = document as Json;

  // Even when the shape is invalid, the well-formed rest is checked too, so one run reports every
  // mistake; nothing is compiled unless the whole document is valid.
  const layers = collectLayers(root, sink);
  const total = countRules(layers);
  if (total > context.limits.maxRules) {
    sink.add('error', 'LIMIT_RULES', '$', `${total} rules, over the limit of ${context.limits.maxRules}`);
    return { findings: sink.findings };
  }
  const validators = compileArgumentSchemas(layers, sink);
  const catalogue = catalogueOf(root['actions']);
  lintLayers(layers, catalogue, sink);
  if (!shapeValid || sink.hasErrors) return { findings: sink.findings };

  const name = typeof root['name'] === 'string' ? root['name'] : context.defaultName;
  const normalised: Json = Object.create(null);
  Object.assign(normalised, root, { version: 1, default: 'deny', name });
  const digest = hashCanonical(normalised);
  freezeLayers(layers);
  const definition: PolicyDefinition = Object.freeze({
    name,
    digest,
    catalogue: catalogue === undefined ? undefined : Object.freeze(catalogue),
    base: layers[0]!,
    tenants: Object.freeze(layers.slice(1)),
  });
  const policy = createCompiledPolicy({
    name,
    digest,
    warnings: sink.findings,
    definition,
    ...compileRuleSets(definition, validators),
    explainRows: () => explainDefinition(definition),
  });
  return { findings: sink.findings, policy };
}

/** The valid action ids of `actions`, or `undefined` when the policy has no usable catalogue. */
function catalogueOf(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((item): item is string => isActionPattern(item) && !isGlob(item));
}

/** The evaluator's rule sets: the base policy's, and for each overlay the base's plus its own. */
function compileRuleSets(
  definition: PolicyDefinition,
  validators: ReadonlyMap<RuleDefinition, ValidateFunction>,
): { base: RuleSet; tenants: ReadonlyMap<string, RuleSet> } {
  const knownActions = new Set<string>(definition.catalogue ?? []);
  for (const layer of [definition.base, ...definition.tenants]) {
    for (const rule of layer.rules)
      for (const pattern of rule.actions) if (!isGlob(pattern)) knownActions.add(pattern);
  }
  const buildSet = (
    tenant: string | null,
    rules: readonly CompiledRule[],
    limits: readonly CompiledLimit[],
    transitions: readonly CompiledTransition[],
    filter: CompiledFilter | undefined,
  ): RuleSet => ({
    tenant,
    rules: new PatternIndex(
      rules.flatMap((rule) => rule.patterns.map((pattern) => ({ pattern, value: rule }))),
      byId,
      knownActions,
    ),
    limits: new PatternIndex(
      limits.flatMap((limit) => limit.patterns.map((pattern) => ({ pattern, value: limit }))),
      byId,
      knownActions,
    ),
    transitions: new PatternIndex(
      transitions.map((transition) => ({ pattern: transition.from, value: transition })),
      byId,
      knownActions,
    ),
    filter,
  });
  const compileLayer = (layer: PolicyLayer) => ({
    rules: layer.rules.map((rule) => compileRule(rule, validators.get(rule))),
    limits: layer.limits.map(compileLimit),
    transitions: layer.transitions.map(compileTransition),
  });
  const base = compileLayer(definition.base);
  const tenants = new Map<string, RuleSet>();
  for (const layer of definition.tenants) {
    const own = compileLayer(layer);
    const filter: CompiledFilter | undefined =
      layer.filter === undefined
        ? undefined
        : {
            id: layer.filter.id,
            tenant: layer.filter.tenant,
            patterns: layer.filter.actions,
            set: new PatternSet(layer.filter.actions),
          };
    tenants.set(
      layer.tenant!,
      buildSet(
        layer.tenant,
        [...base.rules, ...own.rules],
        [...base.limits, ...own.limits],
        [...base.transitions, ...own.transitions],
        filter,
      ),
    );
  }
  return { base: buildSet(null, base.rules, base.limits, base.transitions, undefined), tenants };
}

function compileRule(rule: RuleDefinition, validate: ValidateFunction | undefined): CompiledRule {
  return {
    id: rule.id,
    effect: rule.effect,
    patterns: rule.actions,
    provenanceMask: (rule.when?.provenance ?? []).reduce(
      (mask, label) => mask | (PROVENANCE_BITS[label] ?? 0),
      0,
    ),
    validate,
    reason: rule.reason,
    origin: rule.origin,
    tenant: rule.tenant,
  };
}

function compileLimit(limit: LimitDefinition): CompiledLimit {
  return {
    id: limit.id,
    patterns: limit.actions,
    set: new PatternSet(limit.actions),
    maxCalls: limit.maxCalls,
    scope: limit.scope,
    window: limit.window,
    windowMs: limit.windowMs,
    usage: Object.freeze({
      id: limit.id,
      max: limit.maxCalls,
      scope: limit.scope,
      ...(limit.windowMs === undefined ? {} : { windowMs: limit.windowMs }),
      ...(limit.reason === undefined ? {} : { reason: limit.reason }),
    }),
    reason: limit.reason,
    tenant: limit.tenant,
  };
}

function compileTransition(transition: TransitionDefinition): CompiledTransition {
  return {
    id: transition.id,
    from: transition.from,
    followers: new PatternSet(transition.followers),
    followerPatterns: transition.followers,
    tenant: transition.tenant,
  };
}

function byId(left: { readonly id: string }, right: { readonly id: string }): number {
  return left.id < right.id ? -1 : left.id > right.id ? 1 : 0;
}
