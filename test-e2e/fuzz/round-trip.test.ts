import { canonicalJson } from '@ape/core';
import { type CompiledPolicy, compilePolicy, loadPolicy } from '@ape/policy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policyDocument, runs, seed } from './arbitraries.js';

function digestOr(load: () => CompiledPolicy): string {
  try {
    return load().digest;
  } catch (error) {
    return `invalid:${(error as { code?: string }).code}`;
  }
}

/** The same value with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, item]) => [key, reverseKeys(item)]),
  );
}

describe('policy round trip', () => {
  it('parse → canonical JSON → parse gives the same digest, whatever the key order or layout', () => {
    fc.assert(
      fc.property(policyDocument, (document) => {
        const fromYaml = digestOr(() =>
          loadPolicy({ text: JSON.stringify(document, null, 2), filename: 'p.yaml' }),
        );
        const canonical = digestOr(() =>
          loadPolicy({ text: canonicalJson(document), format: 'json', filename: 'p.json' }),
        );
        const reordered = digestOr(() => compilePolicy(reverseKeys(document), { filename: 'p.yaml' }));
        expect(canonical).toBe(fromYaml);
        expect(reordered).toBe(fromYaml);
      }),
      { numRuns: runs(100, 0.01), seed: seed() },
    );
  });
});
