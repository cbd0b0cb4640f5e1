import type { ActionRequest, Decision, ProvenanceLabel } from '@ape/core';
import { canonicalJson } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CompiledPolicy,
  type ExplainCondition,
  type ExplainRow,
  isPathWithin,
  isUrlAllowed,
  matchesActionPattern,
  validatePolicy,
} from './index.js';

/*
 * Reads a policy the way a person reads `ape explain`: a row applies when its action pattern
 * matches and its conditions (the tree the text renders) hold; then the footer's precedence. The
 * rule ids this reading names must be the ones `simulate` reports, for random policies and calls.
 */

const ACTIONS = ['a', 'b', 'x.y'] as const;
const PATTERNS = [...ACTIONS, 'x.*', '*'] as const;
const LABELS: readonly ProvenanceLabel[] = ['SYSTEM_TRUSTED', 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED'];
const NAMES = ['p', 'q'] as const;
const STRINGS = ['/w/a', '/w/.git/x', '/etc/x', 'https://example.com/x', 'http://a.example.com', 'abc', ''];
const VALUES: readonly unknown[] = [
  ...STRINGS,
  0,
  1,
  2.5,
  -3,
  true,
  null,
  [],
  ['abc', 1],
  ['/w/a'],
  {},
  { p: 'abc' },
  { p: 1, q: '/w/a' },
];

type Schema = Record<string, unknown>;

const scalarSchema: fc.Arbitrary<Schema> = fc.oneof(
  fc.constantFrom<Schema>(
    { type: 'string' },
    { type: 'number' },
    { type: 'integer' },
    { type: ['string', 'null'] },
    { type: 'boolean' },
    { const: 'abc' },
    { const: 1 },
    { enum: ['abc', '/w/a', 1, null] },
    { type: 'string', pattern: '^/w' },
    { type: ['string', 'number'], pattern: 'a', minimum: 1 },
    { type: 'string', minLength: 1, maxLength: 4 },
    { type: 'number', exclusiveMinimum: 0, maximum: 2 },
    { type: 'number', multipleOf: 2 },
    { type: 'string', 'x-ape-path': { roots: ['/w'] } },
    { type: 'string', 'x-ape-path': { roots: ['/w'], exclude: ['/w/.git'] } },
    { 'x-ape-url': { schemes: ['https'], hosts: ['example.com', '*.example.com'] } },
    { type: 'array', minItems: 1, items: { type: 'string' } },
    { type: 'array', maxItems: 1, uniqueItems: true },
    { type: 'object', required: ['p'], properties: { p: { type: 'string' } } },
    { type: 'object', maxProperties: 1, additionalProperties: { type: 'number' } },
  ),
);

const valueSchema: fc.Arbitrary<Schema> = fc.letrec<{ schema: Schema }>((tie) => ({
  schema: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarSchema,
    fc.record({ not: tie('schema') }),
    fc.record({ anyOf: fc.array(tie('schema'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ oneOf: fc.array(tie('schema'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ allOf: fc.array(tie('schema'), { minLength: 1, maxLength: 2 }) }),
    // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword here.
    fc.record({ if: tie('schema'), then: tie('schema'), else: tie('schema') }, { requiredKeys: ['if'] }),
  ),
})).schema;

const argsSchema: fc.Arbitrary<Schema> = fc
  .record(
    {
      required: fc.subarray([...NAMES]),
      properties: fc.record({ p: valueSchema, q: valueSchema }, { requiredKeys: [] }),
      additionalProperties: fc.constantFrom(false, { type: 'string' }),
    },
    { requiredKeys: ['required', 'properties'] },
  )
  .map((schema) => {
    const properties: Schema = { ...schema.properties };
    for (const name of schema.required) properties[name] ??= true;
    return { type: 'object', ...schema, properties };
  });

const ruleArbitrary = fc.record(
  {
    actions: fc.uniqueArray(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 2 }),
    effect: fc.constantFrom('allow', 'deny', 'escalate'),
    when: fc.record(
      { args: argsSchema, provenance: fc.uniqueArray(fc.constantFrom(...LABELS), { minLength: 1 }) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['actions', 'effect'] },
);

const policyArbitrary = fc.record({
  allowed_actions: fc.subarray([...PATTERNS], { maxLength: 2 }),
  forbidden_actions: fc.subarray([...PATTERNS], { maxLength: 1 }),
  escalation_required: fc.subarray([...PATTERNS], { maxLength: 1 }),
  rules: fc.array(ruleArbitrary, { maxLength: 5 }),
  limits: fc.array(
    fc.record({
      actions: fc.subarray([...PATTERNS], { minLength: 1 }),
      max_calls: fc.integer({ min: 0, max: 2 }),
    }),
    { maxLength: 1 },
  ),
  tool_transitions: fc.dictionary(fc.constantFrom(...PATTERNS), fc.subarray([...PATTERNS]), { maxKeys: 1 }),
  tenant: fc.record({
    allowed_actions: fc.option(fc.subarray([...PATTERNS], { minLength: 1 }), { nil: undefined }),
    forbidden_actions: fc.subarray([...PATTERNS], { maxLength: 1 }),
    rules: fc.array(ruleArbitrary, { maxLength: 2 }),
  }),
});

const requestArbitrary = fc.record({
  tenant: fc.constantFrom('base', 't'),
  action: fc.constantFrom(...ACTIONS),
  provenance: fc.constantFrom(...LABELS),
  args: fc.dictionary(fc.constantFrom('p', 'q', 'r'), fc.constantFrom(...VALUES), { maxKeys: 3 }),
  previous: fc.option(fc.constantFrom(...ACTIONS), { nil: undefined }),
  calls: fc.dictionary(fc.constantFrom(...ACTIONS), fc.integer({ min: 0, max: 3 }), { maxKeys: 2 }),
});

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isType(type: string, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    default:
      return isObject(value);
  }
}

const same = (left: unknown, right: unknown): boolean => canonicalJson(left) === canonicalJson(right);

/** One keyword with JSON Schema semantics, written independently of ajv. */
function keywordHolds(keyword: string, option: unknown, value: unknown): boolean {
  const number = option as number;
  switch (keyword) {
    case 'type':
      return (Array.isArray(option) ? option : [option]).some((type) => isType(type as string, value));
    case 'const':
      return same(option, value);
    case 'enum':
      return (option as unknown[]).some((item) => same(item, value));
    case 'pattern':
      return typeof value !== 'string' || new RegExp(option as string, 'u').test(value);
    case 'minLength':
      return typeof value !== 'string' || [...value].length >= number;
    case 'maxLength':
      return typeof value !== 'string' || [...value].length <= number;
    case 'minimum':
      return typeof value !== 'number' || value >= number;
    case 'maximum':
      return typeof value !== 'number' || value <= number;
    case 'exclusiveMinimum':
      return typeof value !== 'number' || value > number;
    case 'exclusiveMaximum':
      return typeof value !== 'number' || value < number;
    case 'multipleOf':
      return typeof value !== 'number' || Number.isInteger(value / number);
    case 'minItems':
      return !Array.isArray(value) || value.length >= number;
    case 'maxItems':
      return !Array.isArray(value) || value.length <= number;
    case 'uniqueItems':
      return (
        option !== true ||
        !Array.isArray(value) ||
        new Set(value.map((item) => canonicalJson(item))).size === value.length
      );
    case 'minProperties':
      return !isObject(value) || Object.keys(value).length >= number;
    case 'maxProperties':
      return !isObject(value) || Object.keys(value).length <= number;
    case 'required':
      return !isObject(value) || (option as string[]).every((name) => Object.hasOwn(value, name));
    case 'x-ape-path':
      return isPathWithin(value, option as { roots: string[] });
    case 'x-ape-url':
      return isUrlAllowed(value, option as { schemes: string[]; hosts: string[] });
    default:
      throw new Error(`the reading has no keyword ${keyword}`);
  }
}

function holds(condition: ExplainCondition, value: unknown, provenance: ProvenanceLabel): boolean {
  const check = (inner: ExplainCondition, at: unknown): boolean => holds(inner, at, provenance);
  switch (condition.op) {
    case 'always':
      return true;
    case 'never':
      return false;
    case 'all':
      return condition.of.every((inner) => check(inner, value));
    case 'any':
      return condition.of.some((inner) => check(inner, value));
    case 'one':
      return condition.of.filter((inner) => check(inner, value)).length === 1;
    case 'not':
      return !check(condition.of, value);
    case 'if':
      return check(condition.test, value) ? check(condition.ifTrue, value) : check(condition.ifFalse, value);
    case 'property':
      return (
        !isObject(value) ||
        !Object.hasOwn(value, condition.name) ||
        check(condition.of, value[condition.name])
      );
    case 'others':
      return (
        !isObject(value) ||
        Object.keys(value)
          .filter((name) => !condition.except.includes(name))
          .every((name) => check(condition.of, value[name]))
      );
    case 'items':
      return !Array.isArray(value) || value.every((item) => check(condition.of, item));
    case 'keyword':
      return keywordHolds(condition.keyword, condition.value, value);
    case 'provenance':
      return condition.labels.includes(provenance);
    case 'unsummarised':
      throw new Error('the generated policies only use summarised keywords');
  }
}

interface Call {
  readonly tenant: string;
  readonly action: string;
  readonly provenance: ProvenanceLabel;
  readonly args: Record<string, unknown>;
  readonly previous: string | undefined;
  readonly calls: Record<string, number>;
}

const matchesAny = (patterns: string, action: string): boolean =>
  patterns.split(', ').some((pattern) => matchesActionPattern(pattern, action));

/** The decision and rule ids a reader of the explain table and its footer arrives at. */
function readTable(rows: readonly ExplainRow[], call: Call): { decision: Decision; rules: string[] } {
  const mine = rows.filter((row) => row.tenant === null || row.tenant === call.tenant);
  const denials: string[] = [];
  const baseEscalations: string[] = [];
  const tenantEscalations: string[] = [];
  const allows: string[] = [];
  for (const row of mine) {
    switch (row.effect) {
      case 'tenant_filter':
        if (!matchesAny(row.action, call.action)) denials.push(row.rule);
        break;
      case 'transition': {
        if (call.previous === undefined || !matchesAny(row.action, call.previous)) break;
        const followers = /^may be followed only by (.+)$/.exec(row.conditions)?.[1] ?? '';
        if (!matchesAny(followers, call.action)) denials.push(row.rule);
        break;
      }
      case 'limit': {
        if (!matchesAny(row.action, call.action)) break;
        const budget = Number(/^at most (\d+) calls? per session$/.exec(row.conditions)?.[1]);
        const used = Object.entries(call.calls)
          .filter(([action]) => matchesAny(row.action, action))
          .reduce((sum, [, count]) => sum + count, 0);
        if (used >= budget) denials.push(row.rule);
        break;
      }
      default: {
        if (!matchesActionPattern(row.action, call.action)) break;
        if (!holds(row.condition!, call.args, call.provenance)) break;
        if (row.effect === 'deny') denials.push(row.rule);
        else if (row.effect === 'allow') allows.push(row.rule);
        else (row.tenant === null ? baseEscalations : tenantEscalations).push(row.rule);
      }
    }
  }
  const unique = (ids: string[]): string[] => [...new Set(ids)].sort();
  if (denials.length > 0) return { decision: 'DENY', rules: unique(denials) };
  // The footer: a tenant's escalation applies only to what the base policy allows or escalates.
  const escalations =
    baseEscalations.length > 0 || allows.length > 0 ? [...baseEscalations, ...tenantEscalations] : [];
  if (escalations.length > 0) return { decision: 'ESCALATE', rules: unique(escalations) };
  if (allows.length > 0) return { decision: 'ALLOW', rules: unique(allows) };
  return { decision: 'DENY', rules: ['default'] };
}

function requestOf(call: Call): ActionRequest {
  const session =
    call.previous === undefined && Object.keys(call.calls).length === 0
      ? {}
      : {
          session: {
            id: 's',
            ...(call.previous === undefined ? {} : { previousAction: call.previous }),
            calls: call.calls,
          },
        };
  return {
    tenant: call.tenant,
    action: call.action,
    provenance: call.provenance,
    args: call.args,
    ...session,
  };
}

describe('explain agrees with simulate', () => {
  it('names, for random policies and calls, the rules and decision that simulate reports', () => {
    let compiled = 0;
    fc.assert(
      fc.property(
        policyArbitrary,
        fc.array(requestArbitrary, { minLength: 1, maxLength: 8 }),
        (shape, calls) => {
          const { tenant, rules, ...base } = shape;
          const document = {
            version: 1,
            ...base,
            rules: rules.map((rule, index) => ({ id: `r${index}`, ...rule })),
            tenants: {
              t: {
                ...(tenant.allowed_actions === undefined ? {} : { allowed_actions: tenant.allowed_actions }),
                forbidden_actions: tenant.forbidden_actions,
                rules: tenant.rules.map((rule, index) => ({ id: `t${index}`, ...rule })),
              },
            },
          };
          const validation = validatePolicy({ text: JSON.stringify(document), format: 'json' });
          // Schemas ajv's strict mode refuses are not policies; they have nothing to explain.
          fc.pre(validation.ok);
          compiled += 1;
          const policy = validation.policy as CompiledPolicy;
          const rows = policy.explain();
          for (const row of rows) expect(row.exact).toBe(true);
          for (const call of calls) {
            const simulated = policy.simulate(requestOf(call));
            expect(readTable(rows, call), JSON.stringify(call)).toEqual({
              decision: simulated.decision,
              rules: [...new Set(simulated.rules)].sort(),
            });
          }
        },
      ),
      { numRuns: 200 },
    );
    expect(compiled).toBeGreaterThan(60);
  });
});
