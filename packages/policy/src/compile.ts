import { hashCanonical } from '@ape/core';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { policySchema } from './schema.js';
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
import { childPath, pointerToPath } from './findings.js';
import { createCoverFinder, globToRegExp, isGlob, PatternIndex } from './glob.js';
import { addApeKeywords, PATH_KEYWORD, URL_KEYWORD } from './keywords.js';
import type { SourceMap } from './limits.js';
import { linearRegExp, unsafePatternReason } from './regex-safety.js';
import type { CompiledPolicy, ExplainRow, PolicyFinding, PolicyLimits, RuleEffect } from './types.js';

/** @internal The outcome of compiling a parsed document. */
export interface CompileOutcome {
  readonly findings: readonly PolicyFinding[];
  readonly policy?: CompiledPolicy;
}

interface When {
  readonly args?: Record<string, unknown>;
  readonly provenance?: readonly string[];
}

interface RuleDescriptor {
  readonly id: string;
  readonly effect: RuleEffect;
  readonly patterns: readonly string[];
  readonly when: When | undefined;
  readonly reason: string | undefined;
  readonly origin: 'list' | 'rule';
  readonly tenant: string | null;
  readonly path: string;
}

interface LimitDescriptor {
  readonly id: string;
  readonly explicitId: boolean;
  readonly patterns: readonly string[];
  readonly maxCalls: number;
  readonly reason: string | undefined;
  readonly tenant: string | null;
  readonly path: string;
}

interface TransitionDescriptor {
  readonly id: string;
  readonly from: string;
  readonly followers: readonly string[];
  readonly tenant: string | null;
  readonly path: string;
}

interface FilterDescriptor {
  readonly id: string;
  readonly tenant: string;
  readonly patterns: readonly string[];
  readonly path: string;
}

interface Layer {
  readonly tenant: string | null;
  readonly rules: RuleDescriptor[];
  readonly limits: LimitDescriptor[];
  readonly transitions: TransitionDescriptor[];
  readonly filter: FilterDescriptor | undefined;
  readonly path: string;
}

type Json = Record<string, unknown>;

const LISTS = [
  ['allowed_actions', 'allow'],
  ['forbidden_actions', 'deny'],
  ['escalation_required', 'escalate'],
] as const;

let documentValidator: ValidateFunction | undefined;

function validateDocumentShape(document: unknown): readonly ErrorObject[] {
  if (documentValidator === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    documentValidator = ajv.compile(policySchema);
  }
  return documentValidator(document) ? [] : (documentValidator.errors ?? []);
}

class FindingSink {
  readonly findings: PolicyFinding[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly file: string | undefined,
    private readonly sourceMap: SourceMap | undefined,
  ) {}

  add(
    severity: 'error' | 'warning',
    code: string,
    path: string,
    message: string,
    rules?: readonly string[],
    atKey = false,
  ): void {
    const key = `${code}|${path}|${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const position = (atKey ? this.sourceMap?.locate(`${path}#key`) : undefined) ?? this.locate(path);
    this.findings.push({
      severity,
      code,
      message,
      ...(this.file === undefined ? {} : { file: this.file }),
      ...(position === undefined ? {} : { line: position.line, column: position.column }),
      path,
      ...(rules === undefined ? {} : { rules: Object.freeze([...rules]) }),
    });
  }

  /** The position of `path`, or of its nearest located ancestor. */
  locate(path: string): { line: number; column: number } | undefined {
    let current = path;
    while (this.sourceMap !== undefined) {
      const position = this.sourceMap.locate(current);
      if (position !== undefined) return position;
      const cut = Math.max(current.lastIndexOf('.'), current.lastIndexOf('['));
      if (cut <= 0) return undefined;
      current = current.slice(0, cut);
    }
    return undefined;
  }

  get hasErrors(): boolean {
    return this.findings.some((finding) => finding.severity === 'error');
  }
}

function schemaMessage(error: ErrorObject, path: string): string {
  if (path === '$.default' && error.keyword === 'const') {
    return 'only "deny" is accepted: a policy cannot turn default-deny off';
  }
  if (path === '$.version' && error.keyword === 'const') return 'only version 1 is supported';
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    return `must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}`;
  }
  if (error.keyword === 'required') {
    return `missing required field "${String((error.params as { missingProperty?: unknown }).missingProperty)}"`;
  }
  if (error.keyword === 'pattern')
    return `${error.message ?? 'does not match its pattern'} (not a valid id or action pattern)`;
  return error.message ?? `fails ${error.keyword}`;
}

/**
 * @internal Compiles a parsed, prototype-free JSON document into a policy, or returns findings.
 * Never throws for bad documents.
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
  for (const error of validateDocumentShape(document)) {
    const path = pointerToPath(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty?: unknown }).additionalProperty);
      sink.add('error', 'UNKNOWN_KEY', childPath(path, key), `unknown key "${key}"`, undefined, true);
    } else if (error.keyword === 'propertyNames') {
      const key = String((error.params as { propertyName?: unknown }).propertyName);
      sink.add(
        'error',
        'SCHEMA',
        childPath(path, key),
        `"${key}" is not a valid id or action pattern`,
        undefined,
        true,
      );
    } else if (error.keyword !== 'pattern' || !error.schemaPath.includes('propertyNames')) {
      sink.add('error', 'SCHEMA', path, schemaMessage(error, path));
    }
  }
  if (sink.hasErrors) return { findings: sink.findings };
  const root = document as Json;

  const base = collectLayer(root, null, '$');
  const layers: Layer[] = [base];
  const tenants = (root['tenants'] ?? {}) as Record<string, Json>;
  for (const tenant of Object.keys(tenants)) {
    layers.push(collectLayer(tenants[tenant]!, tenant, childPath('$.tenants', tenant)));
  }
  const total = layers.reduce(
    (sum, layer) => sum + layer.rules.length + layer.limits.length + layer.transitions.length,
    0,
  );
  if (total > context.limits.maxRules) {
    sink.add('error', 'LIMIT_RULES', '$', `${total} rules, over the limit of ${context.limits.maxRules}`);
    return { findings: sink.findings };
  }

  let ajv: Ajv2020 | undefined;
  const validators = new Map<RuleDescriptor, ValidateFunction>();
  for (const layer of layers) {
    for (const rule of layer.rules) {
      const args = rule.when?.args;
      if (args === undefined) continue;
      const argsPath = `${rule.path}.when.args`;
      const unsafe = findUnsafePatterns(args, argsPath);
      for (const [path, reason] of unsafe) {
        sink.add('error', 'UNSAFE_PATTERN', path, `unsafe regular expression: ${reason}`, [rule.id]);
      }
      if (unsafe.length > 0) continue;
      try {
        // One ajv instance per policy, created only when some rule has an argument condition.
        ajv ??= createArgumentsAjv();
        validators.set(rule, ajv.compile(args));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        sink.add('error', 'ARGS_SCHEMA', argsPath, `invalid argument schema: ${message}`, [rule.id]);
      }
    }
  }

  lint(root, layers, sink);
  if (sink.hasErrors) return { findings: sink.findings };

  const name = typeof root['name'] === 'string' ? root['name'] : context.defaultName;
  const normalised: Json = Object.create(null);
  Object.assign(normalised, root, { version: 1, default: 'deny', name });
  const digest = hashCanonical(normalised);

  const catalogue = (root['actions'] as string[] | undefined) ?? [];
  const knownActions = new Set<string>(catalogue);
  for (const layer of layers) {
    for (const rule of layer.rules)
      for (const pattern of rule.patterns) if (!isGlob(pattern)) knownActions.add(pattern);
  }
  const compileRule = (rule: RuleDescriptor): CompiledRule => ({
    id: rule.id,
    effect: rule.effect,
    patterns: rule.patterns,
    provenanceMask: (rule.when?.provenance ?? []).reduce(
      (mask, label) => mask | (PROVENANCE_BITS[label] ?? 0),
      0,
    ),
    validate: validators.get(rule),
    reason: rule.reason,
    origin: rule.origin,
    conditions: summariseWhen(rule.when),
    tenant: rule.tenant,
    line: sink.locate(rule.path)?.line,
  });
  const compileLimit = (limit: LimitDescriptor): CompiledLimit => ({
    id: limit.id,
    patterns: limit.patterns,
    set: new PatternSet(limit.patterns),
    maxCalls: limit.maxCalls,
    reason: limit.reason,
    tenant: limit.tenant,
    line: sink.locate(limit.path)?.line,
  });
  const compileTransition = (transition: TransitionDescriptor): CompiledTransition => ({
    id: transition.id,
    from: transition.from,
    followers: new PatternSet(transition.followers),
    followerPatterns: transition.followers,
    tenant: transition.tenant,
    line: sink.locate(transition.path)?.line,
  });
  const baseRules = base.rules.map(compileRule);
  const baseLimits = base.limits.map(compileLimit);
  const baseTransitions = base.transitions.map(compileTransition);
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
  const explainRows: ExplainRow[] = [];
  const tenantSets = new Map<string, RuleSet>();
  for (const layer of layers) {
    const rules = layer === base ? baseRules : layer.rules.map(compileRule);
    const limits = layer === base ? baseLimits : layer.limits.map(compileLimit);
    const transitions = layer === base ? baseTransitions : layer.transitions.map(compileTransition);
    const filter: CompiledFilter | undefined =
      layer.filter === undefined
        ? undefined
        : {
            id: layer.filter.id,
            tenant: layer.filter.tenant,
            patterns: layer.filter.patterns,
            set: new PatternSet(layer.filter.patterns),
            line: sink.locate(layer.filter.path)?.line,
          };
    for (const row of explainLayer(rules, limits, transitions, filter)) explainRows.push(row);
    if (layer.tenant !== null) {
      tenantSets.set(
        layer.tenant,
        buildSet(
          layer.tenant,
          [...baseRules, ...rules],
          [...baseLimits, ...limits],
          [...baseTransitions, ...transitions],
          filter,
        ),
      );
    }
  }
  const policy = createCompiledPolicy({
    name,
    digest,
    warnings: sink.findings,
    base: buildSet(null, baseRules, baseLimits, baseTransitions, undefined),
    tenants: tenantSets,
    explainRows,
  });
  return { findings: sink.findings, policy };
}

function createArgumentsAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    allErrors: false,
    allowUnionTypes: true,
    validateFormats: true,
    unicodeRegExp: true,
    // Every pattern runs on RE2: matching is linear in the argument's length (no ReDoS).
    code: { regExp: linearRegExp },
  });
  addApeKeywords(ajv);
  return ajv;
}

function byId(left: { readonly id: string }, right: { readonly id: string }): number {
  return left.id < right.id ? -1 : left.id > right.id ? 1 : 0;
}

function collectLayer(source: Json, tenant: string | null, path: string): Layer {
  const prefix = tenant === null ? '' : `tenants.${tenant}.`;
  const rules: RuleDescriptor[] = [];
  for (const [list, effect] of LISTS) {
    if (tenant !== null && list === 'allowed_actions') continue;
    const patterns = (source[list] as string[] | undefined) ?? [];
    patterns.forEach((pattern, index) => {
      rules.push({
        id: `${prefix}${list}[${index}]`,
        effect,
        patterns: [pattern],
        when: undefined,
        reason: undefined,
        origin: 'list',
        tenant,
        path: childPath(childPath(path, list), index),
      });
    });
  }
  const ruleList = (source['rules'] as Json[] | undefined) ?? [];
  ruleList.forEach((rule, index) => {
    rules.push({
      id: rule['id'] as string,
      effect: rule['effect'] as RuleEffect,
      patterns: rule['actions'] as string[],
      when: rule['when'] as When | undefined,
      reason: rule['reason'] as string | undefined,
      origin: 'rule',
      tenant,
      path: childPath(childPath(path, 'rules'), index),
    });
  });
  const limits = ((source['limits'] as Json[] | undefined) ?? []).map(
    (limit, index): LimitDescriptor => ({
      id: (limit['id'] as string | undefined) ?? `${prefix}limits[${index}]`,
      explicitId: limit['id'] !== undefined,
      patterns: limit['actions'] as string[],
      maxCalls: limit['max_calls'] as number,
      reason: limit['reason'] as string | undefined,
      tenant,
      path: childPath(childPath(path, 'limits'), index),
    }),
  );
  const transitionSource = (source['tool_transitions'] ?? {}) as Record<string, string[]>;
  const transitions = Object.keys(transitionSource).map(
    (from): TransitionDescriptor => ({
      id: `${prefix}tool_transitions.${from}`,
      from,
      followers: transitionSource[from]!,
      tenant,
      path: childPath(childPath(path, 'tool_transitions'), from),
    }),
  );
  const filterPatterns = tenant === null ? undefined : (source['allowed_actions'] as string[] | undefined);
  const filter =
    tenant === null || filterPatterns === undefined
      ? undefined
      : {
          id: `${prefix}allowed_actions`,
          tenant,
          patterns: filterPatterns,
          path: childPath(path, 'allowed_actions'),
        };
  return { tenant, rules, limits, transitions, filter, path };
}

const SKIPPED_SCHEMA_KEYS = new Set(['const', 'enum', 'default', 'examples']);

function findUnsafePatterns(schema: unknown, path: string): [string, string][] {
  const found: [string, string][] = [];
  const pending: [unknown, string][] = [[schema, path]];
  while (pending.length > 0) {
    const [node, nodePath] = pending.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      node.forEach((item, index) => {
        pending.push([item, childPath(nodePath, index)]);
      });
      continue;
    }
    for (const key of Object.keys(node)) {
      const value = (node as Json)[key];
      const valuePath = childPath(nodePath, key);
      if (key === 'pattern' && typeof value === 'string') {
        const reason = unsafePatternReason(value);
        if (reason !== undefined) found.push([valuePath, reason]);
        continue;
      }
      if (key === 'patternProperties' && typeof value === 'object' && value !== null) {
        for (const property of Object.keys(value)) {
          const reason = unsafePatternReason(property);
          if (reason !== undefined) found.push([childPath(valuePath, property), reason]);
        }
      }
      if (!SKIPPED_SCHEMA_KEYS.has(key)) pending.push([value, valuePath]);
    }
  }
  return found;
}

function lint(root: Json, layers: readonly Layer[], sink: FindingSink): void {
  const base = layers[0]!;
  const baseIds = new Map<string, string>();
  for (const id of ids(base)) {
    if (baseIds.has(id.id)) {
      sink.add(
        'error',
        'LINT_DUPLICATE_RULE_ID',
        id.path,
        `the rule id "${id.id}" is used twice (first at ${baseIds.get(id.id)})`,
        [id.id],
      );
    } else {
      baseIds.set(id.id, id.path);
    }
  }
  for (const layer of layers.slice(1)) {
    const seen = new Map(baseIds);
    for (const id of ids(layer)) {
      if (seen.has(id.id)) {
        sink.add(
          'error',
          'LINT_DUPLICATE_RULE_ID',
          id.path,
          `the rule id "${id.id}" is used twice (first at ${seen.get(id.id)})`,
          [id.id],
        );
      } else {
        seen.set(id.id, id.path);
      }
    }
  }

  for (const layer of layers) {
    const lists = layer.rules.filter((rule) => rule.origin === 'list');
    const byPattern = new Map<string, RuleDescriptor[]>();
    for (const rule of lists) {
      const pattern = rule.patterns[0]!;
      byPattern.set(pattern, [...(byPattern.get(pattern) ?? []), rule]);
    }
    for (const [pattern, entries] of byPattern) {
      const effects = new Set(entries.map((entry) => entry.effect));
      for (const effect of effects) {
        const same = entries.filter((entry) => entry.effect === effect);
        if (same.length > 1) {
          sink.add(
            'warning',
            'LINT_DUPLICATE_ENTRY',
            same[1]!.path,
            `"${pattern}" is listed more than once`,
            same.map((entry) => entry.id),
          );
        }
      }
      if (effects.size < 2) continue;
      const involved = entries.map((entry) => entry.id);
      const last = entries[entries.length - 1]!;
      if (effects.has('deny')) {
        sink.add(
          'error',
          'LINT_CONFLICT',
          last.path,
          `"${pattern}" is both forbidden and ${effects.has('allow') ? 'allowed' : 'escalation-required'}; remove one of the entries`,
          involved,
        );
      } else {
        sink.add(
          'warning',
          'LINT_CONFLICT',
          last.path,
          `"${pattern}" is both allowed and escalation-required; escalation wins, so the allowed entry has no effect`,
          involved,
        );
      }
    }
  }

  const firstCover = createCoverFinder(
    base.rules.filter((rule) => rule.effect === 'deny' && rule.when === undefined),
  );
  for (const rule of base.rules) {
    if (rule.effect === 'deny') continue;
    const shadowing = new Set<string>();
    const covered = rule.patterns.every((pattern) => {
      const cover = firstCover(pattern);
      if (cover !== undefined) shadowing.add(cover.id);
      return cover !== undefined;
    });
    if (covered) {
      sink.add(
        'warning',
        'LINT_SHADOWED',
        rule.path,
        `the ${rule.effect} rule ${rule.id} never applies: ${[...shadowing].join(', ')} always deny${shadowing.size === 1 ? 's' : ''} its actions`,
        [rule.id, ...shadowing],
      );
    }
  }

  const catalogue = root['actions'] as string[] | undefined;
  if (catalogue === undefined) return;
  const known = new Set(catalogue);
  const globMatchesCatalogue = new Map<string, boolean>();
  const matchesCatalogue = (pattern: string): boolean => {
    let matches = globMatchesCatalogue.get(pattern);
    if (matches === undefined) {
      const regExp = globToRegExp(pattern);
      matches = catalogue.some((action) => regExp.test(action));
      globMatchesCatalogue.set(pattern, matches);
    }
    return matches;
  };
  const check = (pattern: string, path: string, rule: string): void => {
    if (!isGlob(pattern)) {
      if (!known.has(pattern)) {
        sink.add(
          'error',
          'LINT_UNKNOWN_ACTION',
          path,
          `"${pattern}" is not in the action catalogue ($.actions)`,
          [rule],
        );
      }
    } else if (!matchesCatalogue(pattern)) {
      sink.add(
        'error',
        'LINT_GLOB_MATCHES_NOTHING',
        path,
        `the glob "${pattern}" matches no action in the catalogue ($.actions)`,
        [rule],
      );
    }
  };
  for (const layer of layers) {
    for (const rule of layer.rules) {
      for (const [index, pattern] of rule.patterns.entries()) {
        check(
          pattern,
          rule.origin === 'list' ? rule.path : childPath(`${rule.path}.actions`, index),
          rule.id,
        );
      }
    }
    for (const limit of layer.limits) {
      for (const [index, pattern] of limit.patterns.entries()) {
        check(pattern, childPath(`${limit.path}.actions`, index), limit.id);
      }
    }
    for (const transition of layer.transitions) {
      check(transition.from, transition.path, transition.id);
      for (const [index, pattern] of transition.followers.entries()) {
        check(pattern, childPath(transition.path, index), transition.id);
      }
    }
    if (layer.filter !== undefined) {
      for (const [index, pattern] of layer.filter.patterns.entries()) {
        check(pattern, childPath(layer.filter.path, index), layer.filter.id);
      }
    }
  }
}

function ids(layer: Layer): { id: string; path: string }[] {
  return [
    ...layer.rules
      .filter((rule) => rule.origin === 'rule')
      .map((rule) => ({ id: rule.id, path: `${rule.path}.id` })),
    ...layer.limits
      .filter((limit) => limit.explicitId)
      .map((limit) => ({ id: limit.id, path: `${limit.path}.id` })),
  ];
}

function summariseWhen(when: When | undefined): string {
  if (when === undefined) return 'always';
  const parts: string[] = [];
  if (when.args !== undefined) parts.push(summariseArgs(when.args));
  if (when.provenance !== undefined) parts.push(`provenance in [${when.provenance.join(', ')}]`);
  return parts.join('; ');
}

function summariseArgs(schema: Json): string {
  const parts: string[] = [];
  const required = schema['required'];
  if (Array.isArray(required) && required.length > 0) parts.push(`requires ${required.join(', ')}`);
  const properties = schema['properties'];
  if (typeof properties === 'object' && properties !== null) {
    for (const [name, raw] of Object.entries(properties as Record<string, unknown>)) {
      if (typeof raw !== 'object' || raw === null) continue;
      const property = raw as Json;
      const negated = property['not'] as Json | undefined;
      const pathOption = (property[PATH_KEYWORD] ?? negated?.[PATH_KEYWORD]) as
        | { roots?: string[] }
        | undefined;
      const urlOption = property[URL_KEYWORD] as { schemes?: string[]; hosts?: string[] } | undefined;
      if (pathOption !== undefined) {
        parts.push(
          `${name} ${property[PATH_KEYWORD] === undefined ? 'outside' : 'within'} ${(pathOption.roots ?? []).join(', ')}`,
        );
      } else if (urlOption !== undefined) {
        parts.push(
          `${name} is a ${(urlOption.schemes ?? []).join('/')} URL on ${(urlOption.hosts ?? []).join(', ')}`,
        );
      } else if (Array.isArray(property['enum'])) {
        parts.push(
          `${name} in [${(property['enum'] as unknown[]).map((value) => JSON.stringify(value)).join(', ')}]`,
        );
      } else if (property['const'] !== undefined) {
        parts.push(`${name} = ${JSON.stringify(property['const'])}`);
      } else if (typeof property['pattern'] === 'string') {
        parts.push(`${name} matches /${property['pattern']}/`);
      }
    }
  }
  return parts.length === 0 ? 'args match a schema' : `args: ${parts.join(', ')}`;
}

function explainLayer(
  rules: readonly CompiledRule[],
  limits: readonly CompiledLimit[],
  transitions: readonly CompiledTransition[],
  filter: CompiledFilter | undefined,
): ExplainRow[] {
  const rows: ExplainRow[] = [];
  const withLine = (row: ExplainRow, line: number | undefined): ExplainRow =>
    Object.freeze(line === undefined ? row : { ...row, line });
  if (filter !== undefined) {
    rows.push(
      withLine(
        {
          tenant: filter.tenant,
          action: filter.patterns.join(', '),
          effect: 'tenant_filter',
          conditions: 'only these actions',
          rule: filter.id,
        },
        filter.line,
      ),
    );
  }
  for (const rule of rules) {
    for (const pattern of rule.patterns) {
      rows.push(
        withLine(
          {
            tenant: rule.tenant,
            action: pattern,
            effect: rule.effect,
            conditions: rule.conditions,
            rule: rule.id,
            ...(rule.reason === undefined ? {} : { reason: rule.reason }),
          },
          rule.line,
        ),
      );
    }
  }
  for (const limit of limits) {
    rows.push(
      withLine(
        {
          tenant: limit.tenant,
          action: limit.patterns.join(', '),
          effect: 'limit',
          conditions: `at most ${limit.maxCalls} calls per session`,
          rule: limit.id,
          ...(limit.reason === undefined ? {} : { reason: limit.reason }),
        },
        limit.line,
      ),
    );
  }
  for (const transition of transitions) {
    rows.push(
      withLine(
        {
          tenant: transition.tenant,
          action: transition.from,
          effect: 'transition',
          conditions:
            transition.followerPatterns.length === 0
              ? 'no action may follow'
              : `may be followed only by ${transition.followerPatterns.join(', ')}`,
          rule: transition.id,
        },
        transition.line,
      ),
    );
  }
  return rows;
}
