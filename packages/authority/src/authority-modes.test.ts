import { type AuthorityToken, ApeError, type TokenBinding } from '@ape/core';
import { FakeClock } from '@ape/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthorityManager } from './authority-manager.js';
import { InMemoryTokenStore } from './in-memory-token-store.js';
import { binding } from './__fixtures__/binding.js';

/** One operation of a random session of the authority; `token` picks one of the issued tokens. */
type Op =
  | { readonly kind: 'issue'; readonly session: string }
  | { readonly kind: 'consume'; readonly token: number; readonly as: 'bound' | 'other-step' | 'other-tenant' }
  | { readonly kind: 'revoke'; readonly token: number }
  | { readonly kind: 'revokeSession'; readonly session: string }
  | { readonly kind: 'revokeTenant' }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'purge' };

const session = fc.constantFrom('session-1', 'session-2', 'session-3');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('issue' as const), session }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('consume' as const),
      token: fc.nat(40),
      as: fc.constantFrom('bound' as const, 'bound' as const, 'other-step' as const, 'other-tenant' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revoke' as const), token: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revokeSession' as const), session }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'revokeTenant' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.constantFrom(1, 250, 500, 999, 1_000),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'purge' as const }) },
);

/** What an operation answered, without the fingerprints (random, so different in each manager). */
async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    const value = await run();
    return { value };
  } catch (error) {
    if (!ApeError.isInstance(error)) throw error;
    const { fingerprint: _fingerprint, ...details } = error.details;
    return { code: error.code, details };
  }
}

/** Runs `ops` on one manager and returns every answer, in order. */
async function answers(
  authority: AuthorityManager,
  clock: FakeClock,
  ops: readonly Op[],
): Promise<unknown[]> {
  const issued: { readonly token: AuthorityToken; readonly binding: TokenBinding }[] = [];
  const seen: unknown[] = [];
  let step = 0;
  for (const item of ops) {
    switch (item.kind) {
      case 'issue': {
        const bound: TokenBinding = { ...binding, session: item.session, stepIndex: step++ };
        const token = await authority.issue(bound);
        issued.push({ token, binding: bound });
        seen.push({ issued: token.expiresAt - token.issuedAt });
        break;
      }
      case 'consume': {
        const target = issued[item.token % Math.max(issued.length, 1)];
        if (target === undefined) break;
        const presented =
          item.as === 'bound'
            ? target.binding
            : item.as === 'other-step'
              ? { ...target.binding, stepIndex: target.binding.stepIndex + 1 }
              : { ...target.binding, tenant: 'globex' };
        seen.push(await outcome(() => authority.consume(target.token, presented)));
        break;
      }
      case 'revoke': {
        const target = issued[item.token % Math.max(issued.length, 1)];
        if (target !== undefined) seen.push(await outcome(() => authority.revoke(target.token, 'explicit')));
        break;
      }
      case 'revokeSession':
        seen.push(await outcome(() => authority.revokeSession('acme', item.session, 'terminated')));
        break;
      case 'revokeTenant':
        seen.push(await outcome(() => authority.revokeTenant('acme', 'policy_reloaded')));
        break;
      case 'advance':
        clock.advance(item.ms);
        break;
      case 'purge':
        seen.push(await outcome(() => authority.purgeExpired()));
        break;
    }
    seen.push({ held: await authority.outstandingCount() });
  }
  return seen;
}

describe('AuthorityManager keeps its tokens itself exactly as it keeps them in a store', () => {
  it('answers every sequence of issues, consumes, revocations, expiries and purges alike (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 120 }), async (ops) => {
        const keptClock = new FakeClock();
        const storedClock = new FakeClock();
        const kept = new AuthorityManager({ tenant: 'acme', clock: keptClock, ttlMs: 1_000 });
        const stored = new AuthorityManager({
          tenant: 'acme',
          clock: storedClock,
          ttlMs: 1_000,
          store: new InMemoryTokenStore(),
        });
        expect(await answers(kept, keptClock, ops)).toEqual(await answers(stored, storedClock, ops));
      }),
      { numRuns: 300 },
    );
  });
});
