import { describe, expect, it } from 'vitest';
import { encodePolicies, MAX_EXACT_CASES } from './encode.js';
import { verifiablePolicyFromDocument } from './load.js';
import { exportPolicyModel } from './model.js';
import { openSession } from './solver.js';

function encode(properties: Record<string, unknown>) {
  const policy = verifiablePolicyFromDocument({
    version: 1,
    name: 'cases',
    rules: [
      {
        id: 'conditions',
        actions: ['act'],
        effect: 'allow',
        when: { args: { type: 'object', properties } },
      },
    ],
  });
  return encodePolicies([{ prefix: 'a_', model: exportPolicyModel(policy) }]);
}

const url = { type: 'string', 'x-ape-url': { schemes: ['https'], hosts: ['a.example', 'b.example'] } };
const path = { type: 'string', 'x-ape-path': { roots: ['/workspace'] } };

describe('the exact region of approximated conditions, split into cases', () => {
  it('is one case ("true") when nothing is approximated', () => {
    expect(encode({ name: { type: 'string', pattern: '^a' } }).exactCases).toEqual(['true']);
  });

  it('is one case per exact disjunct of an x-ape-url condition (non-string, no ":", each sample URL)', () => {
    const cases = encode({ url }).exactCases;
    expect(cases).toHaveLength(4);
    expect(cases.filter((entry) => entry.includes('"https://a.example/"'))).toHaveLength(1);
    expect(cases.filter((entry) => entry.includes('"https://b.example/"'))).toHaveLength(1);
  });

  it('multiplies the disjuncts of independent conditions (4 × 2 for a URL and a path)', () => {
    const cases = encode({ url, path }).exactCases;
    expect(cases).toHaveLength(8);
    expect(new Set(cases).size).toBe(8);
  });

  it(`never splits into more than ${MAX_EXACT_CASES} cases: what is left joins every case as one disjunction`, () => {
    const properties = Object.fromEntries(
      ['p', 'q', 'r', 's', 't', 'u', 'v'].map((name) => [
        name,
        { ...path, 'x-ape-path': { roots: [`/${name}`] } },
      ]),
    );
    const cases = encode(properties).exactCases;
    // Six path conditions make 2^6 = 64 cases; the seventh is added to each as `(or …)`.
    expect(cases).toHaveLength(MAX_EXACT_CASES);
    for (const entry of cases) expect(entry).toMatch(/\(or \(not \(= arg\d+_kind KString\)\)/);
  });

  it('covers exactly the region: a request is in some case if and only if it is in the disjunction', async () => {
    const encoding = encode({ url, path });
    const session = await openSession(encoding.preamble);
    try {
      const anyCase = `(or ${encoding.exactCases.join(' ')})`;
      // A string URL with ":" that is not a sample is outside every case (the region is not everything)…
      const outside = await session.check(
        `(and (= arg1_kind KString) (str.contains arg1_string ":") (not (= arg1_string "https://a.example/")) (not (= arg1_string "https://b.example/")) ${anyCase})`,
        [],
      );
      expect(outside.answer).toBe('unsat');
      // …and a sample URL is inside one.
      const inside = await session.check(`(and (= arg1_string "https://b.example/") ${anyCase})`, []);
      expect(inside.answer).toBe('sat');
    } finally {
      session.close();
    }
  });
});
