import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compilePolicy, loadPolicy } from './index.js';
import type { ExplainRow } from './types.js';

const directory = fileURLToPath(new URL('../../../policies/', import.meta.url));

function rowOf(rows: readonly ExplainRow[], rule: string, action?: string): ExplainRow {
  const row = rows.find((entry) => entry.rule === rule && (action === undefined || entry.action === action));
  if (row === undefined) throw new Error(`no row for ${rule}`);
  return row;
}

function conditionsOf(args: unknown, provenance?: readonly string[]): ExplainRow {
  const policy = compilePolicy({
    rules: [
      { id: 'r', actions: ['a'], effect: 'allow', when: { args, ...(provenance ? { provenance } : {}) } },
    ],
  });
  return rowOf(policy.explain(), 'r');
}

describe('explain of the shipped human_in_loop.yaml', () => {
  const rows = loadPolicy(`${directory}human_in_loop.yaml`).explain();

  it('states the negated environment condition of deploy_production instead of "requires environment"', () => {
    const row = rowOf(rows, 'deploy-only-to-known-environments');
    expect(row).toMatchObject({ effect: 'deny', action: 'deploy_production', exact: true });
    expect(row.conditions).toBe(
      'args.environment is present and not (args.environment is one of ["production", "staging"])',
    );
    expect(row.condition).toEqual({
      op: 'all',
      of: [
        { op: 'keyword', keyword: 'required', value: ['environment'] },
        {
          op: 'property',
          name: 'environment',
          of: { op: 'not', of: { op: 'keyword', keyword: 'enum', value: ['production', 'staging'] } },
        },
      ],
    });
  });

  it('shows the not x-ape-url of the fetch_url escalation and the plain one of the allow', () => {
    const hosts = 'scheme https and host example.com or *.example.com';
    expect(rowOf(rows, 'fetch-other-hosts-needs-approval').conditions).toBe(
      `args.url is present and args.url is a string and not (args.url is a URL with ${hosts})`,
    );
    expect(rowOf(rows, 'fetch-known-hosts').conditions).toBe(
      `args.url is present and args.url is a string and args.url is a URL with ${hosts}`,
    );
  });

  it('shows limits with their budget and transitions with their followers', () => {
    expect(rowOf(rows, 'one-deploy-per-session').conditions).toBe('at most 1 call per session');
    expect(rowOf(rows, 'tool_transitions.deploy_production').conditions).toBe('no action may follow');
  });
});

describe('explain conditions', () => {
  it('says "if present" for a property that is not required', () => {
    expect(conditionsOf({ type: 'object', properties: { mode: { const: 'fast' } } }).conditions).toBe(
      'if args.mode is present then args.mode = "fast"',
    );
  });

  it('renders anyOf, oneOf, allOf and if/then/else with their own logic', () => {
    const named = (name: string) => ({ type: 'object', required: [name], properties: { [name]: true } });
    const row = conditionsOf({
      type: 'object',
      anyOf: [named('a'), { type: 'object', required: ['b', 'c'], properties: { b: true, c: true } }],
      oneOf: [named('d'), named('e')],
      allOf: [named('f'), { type: 'object', minProperties: 2 }],
      if: named('g'),
      // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword here.
      then: named('h'),
    });
    expect(row.conditions).toBe(
      'args.f is present and args has at least 2 properties and (args.a is present or (args.b is present and args.c is present)) and exactly one of (args.d is present; args.e is present) and if (args.g is present) then (args.h is present) else (always)',
    );
    expect(row.exact).toBe(true);
  });

  it('guards a keyword of one type when the value may have another', () => {
    const row = conditionsOf({
      type: 'object',
      properties: { n: { type: ['string', 'number'], pattern: '^a', minimum: 2 } },
    });
    expect(row.conditions).toBe(
      'if args.n is present then (args.n is a string or a number and (args.n matches /^a/ or args.n is not a string) and (args.n >= 2 or args.n is not a number))',
    );
  });

  it('renders nested properties, items, additionalProperties and paths with exclusions', () => {
    const row = conditionsOf({
      type: 'object',
      required: ['to'],
      additionalProperties: false,
      properties: {
        to: {
          type: 'object',
          required: ['files'],
          properties: {
            files: {
              type: 'array',
              maxItems: 3,
              items: { type: 'string', 'x-ape-path': { roots: ['/w'], exclude: ['/w/.git'] } },
            },
          },
        },
      },
    });
    expect(row.conditions).toBe(
      'args.to is present and args.to is an object and args.to.files is present and args.to.files is an array and args.to.files has at most 3 items and every item args.to.files[*]: (args.to.files[*] is a string and args.to.files[*] is a safe path within /w but not within /w/.git) and args has no properties other than to',
    );
  });

  it('joins the provenance condition and says which labels it accepts', () => {
    expect(
      conditionsOf({ type: 'object', required: ['to'], properties: { to: true } }, ['USER_TRUSTED'])
        .conditions,
    ).toBe('args.to is present and provenance is USER_TRUSTED');
  });

  it('says when it cannot summarise a condition instead of simplifying it', () => {
    const row = conditionsOf({
      type: 'object',
      dependentRequired: { a: ['b'] },
      properties: { list: { type: 'array', prefixItems: [{ type: 'string' }], minItems: 1, items: false } },
    });
    expect(row.exact).toBe(false);
    expect(row.conditions).toContain('args satisfies {"dependentRequired":{"a":["b"]}} (not summarised)');
    expect(row.conditions).toContain('(not summarised)');
    expect(row.condition).toMatchObject({ op: 'all' });
  });

  it('marks list entries, limits and transitions exact with no condition tree beyond always', () => {
    const rows = compilePolicy({
      allowed_actions: ['a'],
      limits: [{ actions: ['a'], max_calls: 2, scope: 'tenant', window: '1h' }],
      tool_transitions: { a: ['b'] },
    }).explain();
    expect(rows.map((row) => [row.effect, row.conditions, row.exact])).toEqual([
      ['allow', 'always', true],
      ['limit', 'at most 2 calls per tenant in any 1h window', true],
      ['transition', 'may be followed only by b', true],
    ]);
    expect(rows[0]?.condition).toEqual({ op: 'always' });
  });
});
