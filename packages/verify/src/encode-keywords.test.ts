import { describe, expect, it } from 'vitest';
import { encodePolicies, ruleName } from './encode.js';
import { verifiablePolicyFromDocument } from './load.js';
import { exportPolicyModel } from './model.js';
import { fixRequest } from './samples.js';
import { openSession } from './solver.js';

/**
 * Each row: an argument schema the encoding expresses exactly, and argument objects. Z3 must find a
 * request fixed to those arguments in the rule if and only if the compiled evaluator allows it.
 */
const TABLE: readonly (readonly [string, Record<string, unknown>, readonly Record<string, unknown>[]])[] = [
  [
    'numeric bounds and integer',
    {
      type: 'object',
      properties: {
        n: { type: 'integer', minimum: 1, exclusiveMaximum: 10 },
        m: { type: 'number', exclusiveMinimum: -0.5, maximum: 2.5 },
      },
    },
    [{ n: 1, m: 0 }, { n: 10 }, { n: 0 }, { n: 2.5 }, { m: -0.5 }, { m: 2.5 }, { m: 2.75 }, { n: '3' }, {}],
  ],
  [
    'allOf, anyOf, oneOf and not',
    {
      type: 'object',
      properties: {
        s: {
          allOf: [{ type: 'string' }, { type: 'string', minLength: 2 }],
          not: { const: 'no' },
          oneOf: [
            { type: 'string', maxLength: 3 },
            { type: 'string', pattern: '^x' },
          ],
        },
        t: { anyOf: [{ type: 'boolean' }, { type: 'null' }] },
      },
    },
    [
      { s: 'ab' },
      { s: 'no' },
      { s: 'xy' },
      { s: 'xyzw' },
      { s: 'abcd' },
      { s: 'a' },
      { t: true },
      { t: null },
      { t: 0 },
    ],
  ],
  [
    'const and enum of every kind',
    {
      type: 'object',
      properties: {
        b: { const: false },
        e: { enum: ['a', 2, true, null] },
      },
    },
    [
      { b: false },
      { b: true },
      { b: 0 },
      { e: 'a' },
      { e: 2 },
      { e: true },
      { e: null },
      { e: 'b' },
      { e: false },
    ],
  ],
  [
    'required and additionalProperties false',
    {
      type: 'object',
      required: ['a'],
      additionalProperties: false,
      properties: { a: { type: 'string' }, b: true },
    },
    [{ a: 'x' }, { a: 'x', b: 1 }, { b: 1 }, { a: 'x', c: 1 }, { a: 1 }],
  ],
  [
    'types of arrays and objects',
    { type: 'object', properties: { l: { type: 'array' }, o: { type: ['object', 'null'] } } },
    [{ l: [] }, { l: {} }, { o: {} }, { o: null }, { o: [] }, { l: 'x' }],
  ],
];

describe('the encoding of argument keywords agrees with the compiled evaluator', () => {
  for (const [name, schema, argsList] of TABLE) {
    it(`${name}: ${argsList.length} argument objects`, async () => {
      const policy = verifiablePolicyFromDocument({
        version: 1,
        name: 'keywords',
        rules: [{ id: 'only', actions: ['act'], effect: 'allow', when: { args: schema } }],
      });
      const model = exportPolicyModel(policy);
      const encoding = encodePolicies([{ prefix: 'a_', model }]);
      expect(encoding.approximations).toEqual([]);
      const session = await openSession(encoding.preamble);
      const disagreements: string[] = [];
      for (const args of argsList) {
        const request = { tenant: 't', action: 'act', args, provenance: 'USER_TRUSTED' as const };
        const allowed = policy.policy.evaluate(request).decision === 'ALLOW';
        const result = await session.check(`(and ${fixRequest(encoding, request)} ${ruleName('a_', 0)})`, []);
        if ((result.answer === 'sat') !== allowed)
          disagreements.push(`${JSON.stringify(args)}: evaluator ${allowed}`);
      }
      expect(disagreements).toEqual([]);
      // Each table has arguments on both sides of the rule.
      const decisions = argsList.map(
        (args) =>
          policy.policy.evaluate({ tenant: 't', action: 'act', args, provenance: 'USER_TRUSTED' }).decision,
      );
      expect(decisions).toContain('ALLOW');
      expect(decisions).toContain('DENY');
    });
  }
});

describe('a const object is approximated, and says so', () => {
  it('reports "compared by kind only" for the rule and keeps the rule reachable for every object', async () => {
    const policy = verifiablePolicyFromDocument({
      version: 1,
      name: 'keywords',
      rules: [
        {
          id: 'only',
          actions: ['act'],
          effect: 'allow',
          when: { args: { type: 'object', properties: { o: { const: { k: 1 } } } } },
        },
      ],
    });
    const encoding = encodePolicies([{ prefix: 'a_', model: exportPolicyModel(policy) }]);
    expect(encoding.approximations).toEqual([
      {
        policy: 'keywords',
        rule: 'only',
        condition: 'args.o: const/enum object or array',
        treatment: 'compared by kind only',
      },
    ]);
    const session = await openSession(encoding.preamble);
    const request = {
      tenant: 't',
      action: 'act',
      args: { o: { k: 2 } },
      provenance: 'USER_TRUSTED' as const,
    };
    // The evaluator denies {k: 2}; the over-approximation may still place it in the rule…
    expect(policy.policy.evaluate(request).decision).toBe('DENY');
    const other = await session.check(`(and ${fixRequest(encoding, request)} ${ruleName('a_', 0)})`, []);
    expect(other.answer).toBe('sat');
    // …but never a value of another kind.
    const number = { ...request, args: { o: 1 } };
    const kind = await session.check(`(and ${fixRequest(encoding, number)} ${ruleName('a_', 0)})`, []);
    expect(kind.answer).toBe('unsat');
  });
});
