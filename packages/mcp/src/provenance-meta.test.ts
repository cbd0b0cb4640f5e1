import fc from 'fast-check';
import { PROVENANCE_LABELS, trustRank } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { declaredArgumentLabels, effectiveProvenance, forwardedMeta } from './provenance-meta.js';

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

describe('declaredArgumentLabels', () => {
  it('answers undefined when the client declares no per-argument labels', () => {
    expect(declaredArgumentLabels(undefined, 'USER_TRUSTED')).toBeUndefined();
    expect(declaredArgumentLabels({ 'ape/provenance': 'USER_TRUSTED' }, 'USER_TRUSTED')).toBeUndefined();
  });

  it.each([
    ['null', null],
    ['an array', ['/to']],
    ['a string', '/to'],
  ])('calls labels declared as %s malformed', (_what, declared) => {
    expect(declaredArgumentLabels({ 'ape/argProvenance': declared }, 'USER_TRUSTED')).toBe('malformed');
  });

  it('caps every label at the ceiling and reads an unknown label as EXTERNAL_UNTRUSTED', () => {
    const labels = declaredArgumentLabels(
      { 'ape/argProvenance': { '/to': 'SYSTEM_TRUSTED', '/body': 'EXTERNAL_UNTRUSTED', '/cc': 'trusted' } },
      'USER_TRUSTED',
    );
    expect(labels).toEqual({
      '/to': 'USER_TRUSTED',
      '/body': 'EXTERNAL_UNTRUSTED',
      '/cc': 'EXTERNAL_UNTRUSTED',
    });
    // A pointer named like a prototype key is an ordinary entry, never a prototype change.
    const proto = declaredArgumentLabels(
      JSON.parse('{"ape/argProvenance":{"__proto__":"USER_TRUSTED"}}'),
      'USER_TRUSTED',
    );
    expect(Object.getPrototypeOf(proto)).toBeNull();
    expect(Object.keys(proto as object)).toEqual(['__proto__']);
  });
});

describe('forwardedMeta of anything but an object', () => {
  it('forwards nothing', () => {
    expect(forwardedMeta(undefined)).toBeUndefined();
    expect(forwardedMeta(null)).toBeUndefined();
    expect(forwardedMeta('x')).toBeUndefined();
  });
});
