import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, hashCanonical } from '../canonical-json.js';
import { deepFreeze } from '../deep-freeze.js';
import { CallChain, chainLinkHash, chainNext, chainStart } from './call-chain.js';

const jsonArgs = fc.dictionary(fc.string(), fc.jsonValue());

describe('call chain', () => {
  it('builds a link from the args text exactly as from the canonical JSON of the link (property)', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.string(),
        fc.string({ minLength: 1 }),
        jsonArgs,
        (index, prev, action, args) => {
          const expected = hashCanonical({ prev, index, step: { action_id: action, args } });
          expect(chainLinkHash(prev, index, action, canonicalJson(args))).toBe(expected);
          expect(chainNext(prev, index, { action_id: action, args })).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('moves its head by chainNext and keeps every step frozen in order', () => {
    const chain = new CallChain('v'.repeat(64));
    const head0 = chainStart('v'.repeat(64));
    expect(chain.head).toBe(head0);
    const args = deepFreeze({ path: '/a', n: [1, 2] });
    const link = chain.append({ action_id: 'read', args }, canonicalJson(args));
    expect(link).toEqual({ index: 0, prev: head0, head: chainNext(head0, 0, { action_id: 'read', args }) });
    expect(chain.headAfter(0)).toBe(link.head);
    expect(chain.step(0)).toEqual({ action_id: 'read', args: { path: '/a', n: [1, 2] } });
    expect(Object.isFrozen(chain.step(0))).toBe(true);
    expect(Object.isFrozen(chain.plan)).toBe(true);
    expect(chain.plan.steps).toHaveLength(1);
  });

  it('appends with the heads chainNext gives, for any action name, valid or not (property)', () => {
    const actionId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/);
    // Names an action id may not have: each needs the serialiser (quotes, escapes, non-ASCII).
    const otherName = fc.constantFrom('a"b', 'a\\b', 'line\nbreak', 'tab\t', 'é', '\u2028', '\ud800', '');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(actionId, otherName), jsonArgs), { maxLength: 8 }), (steps) => {
        const chain = new CallChain('i'.repeat(64));
        let head = chainStart('i'.repeat(64));
        steps.forEach(([action, args], index) => {
          const frozen = deepFreeze(structuredClone(args));
          const link = chain.append({ action_id: action, args: frozen }, canonicalJson(frozen));
          const expected = chainNext(head, index, { action_id: action, args: frozen });
          expect(link).toEqual({ index, prev: head, head: expected });
          head = expected;
        });
        expect(chain.head).toBe(head);
      }),
      { numRuns: 300 },
    );
  });
});
