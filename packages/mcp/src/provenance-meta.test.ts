import fc from 'fast-check';
import { PROVENANCE_LABELS, trustRank } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { effectiveProvenance, forwardedMeta } from './provenance-meta.js';

describe('effectiveProvenance', () => {
  it('uses the ceiling when the client declares nothing', () => {
    expect(effectiveProvenance(undefined, 'USER_TRUSTED')).toBe('USER_TRUSTED');
    expect(effectiveProvenance({ progressToken: 1 }, 'USER_TRUSTED')).toBe('USER_TRUSTED');
  });

  it('lets a client lower trust but never raise it above the ceiling', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROVENANCE_LABELS),
        fc.constantFrom(...PROVENANCE_LABELS),
        (declared, ceiling) => {
          const label = effectiveProvenance({ 'ape/provenance': declared }, ceiling);
          expect(trustRank(label)).toBe(Math.min(trustRank(declared), trustRank(ceiling)));
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
