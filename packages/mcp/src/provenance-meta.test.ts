import fc from 'fast-check';
import { PROVENANCE_LABELS, trustRank } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { effectiveProvenance, forwardedMeta } from './provenance-meta.js';

describe('effectiveProvenance', () => {
  it('uses the ceiling when the client declares nothing', () => {
    expect(effectiveProvenance(undefined, 'USER_TRUSTED')).toBe('USER_TRUSTED');
    expect(effectiveProvenance({ progressToken: 1 }, 'USER_TRUSTED')).toBe('USER_TRUSTED');
  });

  // Every pair, written out: the expected label is not computed with the code's own formula.
  it.each([
    ['SYSTEM_TRUSTED', 'SYSTEM_TRUSTED', 'SYSTEM_TRUSTED'],
    ['SYSTEM_TRUSTED', 'USER_TRUSTED', 'USER_TRUSTED'],
    ['SYSTEM_TRUSTED', 'EXTERNAL_UNTRUSTED', 'EXTERNAL_UNTRUSTED'],
    ['USER_TRUSTED', 'SYSTEM_TRUSTED', 'USER_TRUSTED'],
    ['USER_TRUSTED', 'USER_TRUSTED', 'USER_TRUSTED'],
    ['USER_TRUSTED', 'EXTERNAL_UNTRUSTED', 'EXTERNAL_UNTRUSTED'],
    ['EXTERNAL_UNTRUSTED', 'SYSTEM_TRUSTED', 'EXTERNAL_UNTRUSTED'],
    ['EXTERNAL_UNTRUSTED', 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED'],
    ['EXTERNAL_UNTRUSTED', 'EXTERNAL_UNTRUSTED', 'EXTERNAL_UNTRUSTED'],
  ] as const)(
    'a client declaring %s under the ceiling %s gets %s (lower, never higher)',
    (declared, ceiling, expected) => {
      expect(effectiveProvenance({ 'ape/provenance': declared }, ceiling)).toBe(expected);
    },
  );

  it('never answers a label more trusted than the declared one or the ceiling', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROVENANCE_LABELS),
        fc.constantFrom(...PROVENANCE_LABELS),
        (declared, ceiling) => {
          const label = effectiveProvenance({ 'ape/provenance': declared }, ceiling);
          expect([declared, ceiling]).toContain(label);
          expect(trustRank(label)).toBeLessThanOrEqual(trustRank(declared));
          expect(trustRank(label)).toBeLessThanOrEqual(trustRank(ceiling));
        },
      ),
    );
  });

  it('treats a declared value that is not a label as EXTERNAL_UNTRUSTED', () => {
    expect(effectiveProvenance({ 'ape/provenance': 'trusted' }, 'SYSTEM_TRUSTED')).toBe('EXTERNAL_UNTRUSTED');
  });
});

describe('forwardedMeta', () => {
  it('drops the APE key and the progress token, keeps the rest', () => {
    expect(forwardedMeta({ 'ape/provenance': 'USER_TRUSTED', progressToken: 3, trace: 'x' })).toEqual({
      trace: 'x',
    });
    expect(forwardedMeta({ 'ape/provenance': 'USER_TRUSTED' })).toBeUndefined();
  });
});
