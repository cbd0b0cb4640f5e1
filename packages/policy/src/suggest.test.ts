import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closestMatch, didYouMean } from './suggest.js';

describe('closestMatch', () => {
  it('finds the intended key of a misspelt one', () => {
    const keys = ['allowed_actions', 'forbidden_actions', 'escalation_required', 'rules'];
    expect(closestMatch('forbiden_actions', keys)).toBe('forbidden_actions');
    expect(closestMatch('allowed_action', keys)).toBe('allowed_actions');
    expect(closestMatch('rulse', keys)).toBe('rules');
  });

  it('counts a swap of two neighbours as one edit', () => {
    expect(closestMatch('tpye', ['type', 'enum'])).toBe('type');
  });

  it('ignores case', () => {
    expect(closestMatch('DENY', ['allow', 'deny'])).toBe('deny');
  });

  it('suggests nothing when no candidate is close', () => {
    expect(closestMatch('bogus', ['allowed_actions', 'rules'])).toBeUndefined();
    expect(didYouMean('bogus', ['rules'])).toBe('');
  });

  it('never suggests the word itself', () => {
    expect(closestMatch('rules', ['rules'])).toBeUndefined();
  });

  it('words the hint as a question', () => {
    expect(didYouMean('denny', ['allow', 'deny', 'escalate'])).toBe('; did you mean "deny"?');
  });

  it('only ever suggests one of the candidates, within the allowed distance', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }),
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 6 }),
        (word, candidates) => {
          const match = closestMatch(word, candidates);
          if (match !== undefined) {
            expect(candidates).toContain(match);
            expect(match).not.toBe(word);
          }
        },
      ),
    );
  });
});
