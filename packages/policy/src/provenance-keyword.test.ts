import type { ActionRequest, Decision, ProvenanceLabel } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, validatePolicy } from './index.js';
import { argumentLabelsHold, PROVENANCE_KEYWORD, requireLabelledProperties } from './provenance-keyword.js';

const LABELS: readonly ProvenanceLabel[] = ['SYSTEM_TRUSTED', 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED'];
const RANK: Record<ProvenanceLabel, number> = { SYSTEM_TRUSTED: 2, USER_TRUSTED: 1, EXTERNAL_UNTRUSTED: 0 };
const DECISION_RANK: Record<Decision, number> = { DENY: 0, ESCALATE: 1, ALLOW: 2 };

function labelMap(entries: Record<string, ProvenanceLabel>): Readonly<Record<string, ProvenanceLabel>> {
  return Object.freeze(Object.assign(Object.create(null), entries));
}

describe('x-ape-provenance', () => {
  it('explains the keyword exactly: the property is required and every value in it must carry a listed label', () => {
    const policy = compilePolicy({
      version: 1,
      rules: [
        {
          id: 'mail',
          actions: ['send_email'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              properties: {
                to: { [PROVENANCE_KEYWORD]: ['USER_TRUSTED', 'SYSTEM_TRUSTED'] },
                links: { type: 'array', items: { not: { [PROVENANCE_KEYWORD]: ['EXTERNAL_UNTRUSTED'] } } },
              },
            },
          },
        },
      ],
    });
    const row = policy.explain().find((candidate) => candidate.rule === 'mail');
    expect(row?.exact).toBe(true);
    expect(row?.conditions).toContain('args.to is present');
    expect(row?.conditions).toContain(
      'every value in args.to comes from USER_TRUSTED or SYSTEM_TRUSTED (per-argument provenance)',
    );
    expect(row?.conditions).toContain('not (every value in');
  });

  it('refuses a label list that is empty, repeats a label or names an unknown label (ARGS_SCHEMA)', () => {
    for (const labels of [[], ['USER_TRUSTED', 'USER_TRUSTED'], ['ROOT'], 'USER_TRUSTED']) {
      const validation = validatePolicy({
        text: JSON.stringify({
          version: 1,
          rules: [
            {
              id: 'r',
              actions: ['a'],
              effect: 'allow',
              when: { args: { type: 'object', properties: { to: { [PROVENANCE_KEYWORD]: labels } } } },
            },
          ],
        }),
        filename: 'policy.json',
      });
      expect(validation.ok).toBe(false);
      expect(validation.findings.map((finding) => finding.code)).toContain('ARGS_SCHEMA');
    }
  });

  it('fails closed when the validator runs without a request, or with a malformed label map', () => {
    expect(argumentLabelsHold(undefined, '/to', 'x', 7)).toBe(false);
    expect(
      argumentLabelsHold({ provenance: 'SYSTEM_TRUSTED', argLabels: 'SYSTEM_TRUSTED' }, '/to', 'x', 7),
    ).toBe(false);
    expect(argumentLabelsHold({ provenance: 'ROOT' }, '/to', 'x', 1 | 2)).toBe(false);
    expect(argumentLabelsHold({ provenance: 'USER_TRUSTED' }, '/to', 'x', 2)).toBe(true);
  });

  it('judges arguments nested deeper than 256 levels by the call’s label', () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level < 300; level++) deep = [deep];
    const request = { provenance: 'EXTERNAL_UNTRUSTED', argLabels: labelMap({ '/deep': 'USER_TRUSTED' }) };
    expect(argumentLabelsHold(request, '/deep', deep, 2)).toBe(false);
  });

  it('makes the labelled property required in a copy and leaves the written schema alone', () => {
    const schema = {
      type: 'object',
      required: ['body'],
      properties: {
        to: { 'x-ape-provenance': ['USER_TRUSTED'] },
        url: { anyOf: [{ 'x-ape-provenance': ['USER_TRUSTED'] }, { const: 'x' }] },
        body: { type: 'string' },
        ['__proto__']: { 'x-ape-provenance': ['USER_TRUSTED'] },
      },
      enum: [{ properties: { x: { 'x-ape-provenance': ['USER_TRUSTED'] } } }],
    };
    const before = JSON.stringify(schema);
    const copy = requireLabelledProperties(schema) as Record<string, unknown>;
    expect(copy['required']).toEqual(['body', 'to', 'url', '__proto__']);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(copy['enum']).toBe(schema.enum);
    expect(JSON.stringify(schema)).toBe(before);
  });

  it('names the keyword in the simulation trace when it fails', () => {
    const policy = compilePolicy({
      version: 1,
      rules: [
        {
          id: 'mail',
          actions: ['send_email'],
          effect: 'allow',
          when: { args: { type: 'object', properties: { to: { 'x-ape-provenance': ['USER_TRUSTED'] } } } },
        },
      ],
    });
    const result = policy.simulate({
      tenant: 't',
      action: 'send_email',
      args: { to: 'a@example.com' },
      provenance: 'EXTERNAL_UNTRUSTED',
      argLabels: labelMap({ '/to': 'EXTERNAL_UNTRUSTED' }),
    });
    expect(result.decision).toBe('DENY');
    expect(result.trace.map((step) => step.because).join(' ')).toContain(
      'args.to holds a value whose provenance',
    );
  });
});

// Properties over a policy whose allow rules accept trust thresholds (upward-closed label lists) and
// whose deny/escalate rules react to untrusted arguments (downward-closed lists): the shape the
// shipped policies use.
const UP: readonly ProvenanceLabel[][] = [['SYSTEM_TRUSTED'], ['SYSTEM_TRUSTED', 'USER_TRUSTED']];
const DOWN: readonly ProvenanceLabel[][] = [['EXTERNAL_UNTRUSTED'], ['USER_TRUSTED', 'EXTERNAL_UNTRUSTED']];
const PROPERTIES = ['to', 'body', 'cc'] as const;

const propertySchema = (name: (typeof PROPERTIES)[number], labels: readonly ProvenanceLabel[]) =>
  name === 'cc' ? { type: 'array', items: { 'x-ape-provenance': labels } } : { 'x-ape-provenance': labels };

const ruleArbitrary = fc
  .record({
    effect: fc.constantFrom('allow', 'allow', 'escalate', 'deny'),
    on: fc.uniqueArray(fc.constantFrom(...PROPERTIES), { minLength: 1, maxLength: 3 }),
    level: fc.constantFrom(0, 1),
  })
  .map(({ effect, on, level }) => {
    const labels = effect === 'allow' ? UP[level]! : DOWN[level]!;
    const properties = Object.fromEntries(on.map((name) => [name, propertySchema(name, labels)]));
    return { actions: ['send_email'], effect, when: { args: { type: 'object', properties } } };
  });

const policyArbitrary = fc
  .array(ruleArbitrary, { minLength: 1, maxLength: 4 })
  .map((rules) =>
    compilePolicy({ version: 1, rules: rules.map((rule, index) => ({ id: `r${index}`, ...rule })) }),
  );

const ARGS = { to: 'boss@example.com', body: 'text', cc: ['a@example.com', 'b@example.com'] };
const POINTERS = ['/to', '/body', '/cc/0', '/cc/1'] as const;
const labelsArbitrary = fc.tuple(...POINTERS.map(() => fc.constantFrom(...LABELS)));

function requestWith(labels: readonly ProvenanceLabel[], omit: readonly string[] = []): ActionRequest {
  const entries: Record<string, ProvenanceLabel> = {};
  POINTERS.forEach((pointer, index) => {
    if (!omit.includes(pointer)) entries[pointer] = labels[index]!;
  });
  const least = labels.reduce((low, label) => (RANK[label] < RANK[low] ? label : low), 'SYSTEM_TRUSTED');
  return { tenant: 't', action: 'send_email', args: ARGS, provenance: least, argLabels: labelMap(entries) };
}

describe('x-ape-provenance properties', () => {
  it('never lets an argument made less trusted turn a DENY or ESCALATE into an ALLOW (monotonicity)', () => {
    fc.assert(
      fc.property(policyArbitrary, labelsArbitrary, fc.nat(3), fc.nat(1), (policy, labels, at, by) => {
        const lowered = [...labels];
        const rank = Math.max(0, RANK[labels[at]!] - 1 - by);
        lowered[at] = LABELS.find((label) => RANK[label] === rank)!;
        const before = policy.evaluate(requestWith(labels)).decision;
        const after = policy.evaluate(requestWith(lowered)).decision;
        if (after === 'ALLOW') expect(before).toBe('ALLOW');
      }),
      { numRuns: 60 },
    );
  });

  it('decides as before when every argument carries the call’s own label', () => {
    fc.assert(
      fc.property(policyArbitrary, fc.constantFrom(...LABELS), (policy, label) => {
        const labelled = requestWith(POINTERS.map(() => label));
        const { argLabels: _omitted, ...plain } = labelled;
        expect(policy.evaluate(labelled)).toEqual(policy.evaluate(plain));
      }),
      { numRuns: 60 },
    );
  });

  it('never gives a leaf the map does not name more trust than a named one (unlabelled leaves)', () => {
    fc.assert(
      fc.property(policyArbitrary, labelsArbitrary, fc.subarray([...POINTERS]), (policy, labels, omit) => {
        const full = policy.evaluate(requestWith(labels)).decision;
        const sparse = policy.evaluate(requestWith(labels, omit)).decision;
        if (sparse === 'ALLOW') expect(full).toBe('ALLOW');
        expect(DECISION_RANK[sparse] <= DECISION_RANK[full] || sparse !== 'ALLOW').toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('cannot be forged from arguments: a property named like a pointer changes nothing', () => {
    fc.assert(
      fc.property(
        policyArbitrary,
        labelsArbitrary,
        fc.constantFrom('/to', '/cc/0', '/body'),
        fc.constantFrom(...LABELS),
        (policy, labels, name, forged) => {
          const honest = requestWith(labels);
          const escaped = `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
          const withForgery: ActionRequest = {
            ...honest,
            args: { ...ARGS, [name]: 'evil@example.com' },
            argLabels: labelMap({ ...honest.argLabels, [escaped]: forged }),
            provenance: RANK[forged] < RANK[honest.provenance] ? forged : honest.provenance,
          };
          const before = policy.evaluate(honest).decision;
          const after = policy.evaluate(withForgery).decision;
          // The forged property is an extra argument with its own label; it never upgrades /to.
          if (after === 'ALLOW') expect(before).toBe('ALLOW');
          if (RANK[forged] >= RANK[honest.provenance]) expect(after).toBe(before);
        },
      ),
      { numRuns: 60 },
    );
  });
});
