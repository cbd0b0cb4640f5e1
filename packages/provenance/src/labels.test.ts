import type { ProvenanceLabel } from '@ape/core';
import { type ApeError, combineLabels, ProvenanceError, unwrapLabeled } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  combine,
  compareTrust,
  EXTERNAL_UNTRUSTED,
  Labels,
  parseLabel,
  SYSTEM_TRUSTED,
  USER_TRUSTED,
  unwrap,
} from './labels.js';

const ALL: readonly ProvenanceLabel[] = [SYSTEM_TRUSTED, USER_TRUSTED, EXTERNAL_UNTRUSTED];
const anyLabel = fc.constantFrom<unknown>(...ALL, 'system_trusted', '', 'TRUSTED', null, undefined, 7);

describe('label constants', () => {
  it('name the three labels and are frozen in Labels', () => {
    expect([SYSTEM_TRUSTED, USER_TRUSTED, EXTERNAL_UNTRUSTED]).toEqual([
      'SYSTEM_TRUSTED',
      'USER_TRUSTED',
      'EXTERNAL_UNTRUSTED',
    ]);
    expect(Labels).toEqual({ SYSTEM_TRUSTED, USER_TRUSTED, EXTERNAL_UNTRUSTED });
    expect(Object.isFrozen(Labels)).toBe(true);
  });
});

describe('combine', () => {
  const table: readonly [ProvenanceLabel, ProvenanceLabel, ProvenanceLabel][] = [
    [SYSTEM_TRUSTED, SYSTEM_TRUSTED, SYSTEM_TRUSTED],
    [SYSTEM_TRUSTED, USER_TRUSTED, USER_TRUSTED],
    [SYSTEM_TRUSTED, EXTERNAL_UNTRUSTED, EXTERNAL_UNTRUSTED],
    [USER_TRUSTED, SYSTEM_TRUSTED, USER_TRUSTED],
    [USER_TRUSTED, USER_TRUSTED, USER_TRUSTED],
    [USER_TRUSTED, EXTERNAL_UNTRUSTED, EXTERNAL_UNTRUSTED],
    [EXTERNAL_UNTRUSTED, SYSTEM_TRUSTED, EXTERNAL_UNTRUSTED],
    [EXTERNAL_UNTRUSTED, USER_TRUSTED, EXTERNAL_UNTRUSTED],
    [EXTERNAL_UNTRUSTED, EXTERNAL_UNTRUSTED, EXTERNAL_UNTRUSTED],
  ];

  it.each(table)('combines %s with %s into %s', (a, b, expected) => {
    expect(combine(a, b)).toBe(expected);
  });

  it('gives EXTERNAL_UNTRUSTED for no labels at all', () => {
    expect(combine()).toBe(EXTERNAL_UNTRUSTED);
  });

  it('gives EXTERNAL_UNTRUSTED when any label is unknown, however trusted the others', () => {
    expect(combine(SYSTEM_TRUSTED, 'system_trusted')).toBe(EXTERNAL_UNTRUSTED);
    expect(combine(SYSTEM_TRUSTED, undefined)).toBe(EXTERNAL_UNTRUSTED);
    expect(combine('')).toBe(EXTERNAL_UNTRUSTED);
    expect(combine({ label: SYSTEM_TRUSTED })).toBe(EXTERNAL_UNTRUSTED);
  });

  it('is commutative', () => {
    fc.assert(fc.property(anyLabel, anyLabel, (a, b) => combine(a, b) === combine(b, a)));
  });

  it('is associative', () => {
    fc.assert(
      fc.property(anyLabel, anyLabel, anyLabel, (a, b, c) => {
        return (
          combine(combine(a, b), c) === combine(a, combine(b, c)) &&
          combine(a, b, c) === combine(combine(a, b), c)
        );
      }),
    );
  });

  it('is idempotent on known labels', () => {
    for (const label of ALL) expect(combine(label, label)).toBe(label);
  });

  it('never returns a label more trusted than any input', () => {
    fc.assert(
      fc.property(fc.array(anyLabel, { maxLength: 8 }), (labels) => {
        const result = combine(...labels);
        return labels.every((label) => compareTrust(result, label) <= 0);
      }),
    );
  });
});

describe('compareTrust', () => {
  it('orders SYSTEM_TRUSTED above USER_TRUSTED above EXTERNAL_UNTRUSTED', () => {
    expect(compareTrust(SYSTEM_TRUSTED, USER_TRUSTED)).toBeGreaterThan(0);
    expect(compareTrust(USER_TRUSTED, EXTERNAL_UNTRUSTED)).toBeGreaterThan(0);
    expect(compareTrust(EXTERNAL_UNTRUSTED, SYSTEM_TRUSTED)).toBeLessThan(0);
    expect(compareTrust(USER_TRUSTED, USER_TRUSTED)).toBe(0);
  });

  it('ranks an unknown label with EXTERNAL_UNTRUSTED', () => {
    expect(compareTrust('ROOT', EXTERNAL_UNTRUSTED)).toBe(0);
    expect(compareTrust('ROOT', USER_TRUSTED)).toBeLessThan(0);
  });

  it('sorts labels from least to most trusted', () => {
    expect([SYSTEM_TRUSTED, EXTERNAL_UNTRUSTED, USER_TRUSTED].sort(compareTrust)).toEqual([
      EXTERNAL_UNTRUSTED,
      USER_TRUSTED,
      SYSTEM_TRUSTED,
    ]);
  });

  it('is antisymmetric and agrees with combine', () => {
    fc.assert(
      fc.property(anyLabel, anyLabel, (a, b) => {
        const order = compareTrust(a, b);
        if (Math.sign(order) !== -Math.sign(compareTrust(b, a))) return false;
        return order <= 0 ? compareTrust(combine(a, b), a) === 0 : compareTrust(combine(a, b), b) === 0;
      }),
    );
  });
});

describe('parseLabel', () => {
  it.each(ALL)('reads %s', (label) => {
    expect(parseLabel(label)).toBe(label);
  });

  it.each(['user_trusted', ' USER_TRUSTED', 'USER_TRUSTED\n', 'TRUSTED', ''])(
    'refuses %j with a ProvenanceError naming the text',
    (text) => {
      const error = catchError(() => parseLabel(text));
      expect(ProvenanceError.isInstance(error)).toBe(true);
      expect((error as ApeError).code).toBe('PROVENANCE');
      expect((error as ApeError).message).toContain(JSON.stringify(text));
      expect((error as ApeError).message).toContain('SYSTEM_TRUSTED, USER_TRUSTED, EXTERNAL_UNTRUSTED');
      expect((error as ApeError).details).toEqual({ text, expected: ALL });
    },
  );

  it('refuses a non-string and says what type it was', () => {
    const error = catchError(() => parseLabel(3));
    expect((error as ApeError).code).toBe('PROVENANCE');
    expect((error as ApeError).message).toContain('a value of type number');
  });

  it('refuses null and names it null, not object', () => {
    const error = catchError(() => parseLabel(null)) as ApeError;
    expect(error.code).toBe('PROVENANCE');
    expect(error.message).toContain('a value of type null');
    expect(error.details['text']).toBe('a value of type null');
  });

  it('shortens a very long bad text in the message but keeps it whole in details', () => {
    const text = 'X'.repeat(10_000);
    const error = catchError(() => parseLabel(text)) as ApeError;
    expect(error.code).toBe('PROVENANCE');
    expect(error.message.length).toBeLessThan(300);
    expect(error.details['text']).toBe(text);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('deprecated second names', () => {
  it('are the very functions of @ape/core, not second implementations', () => {
    expect(combine).toBe(combineLabels);
    expect(unwrap).toBe(unwrapLabeled);
  });
});
