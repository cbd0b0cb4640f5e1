import type { Labeled } from '@ape/core';
import { untrusted } from '@ape/provenance';
import type { AttackBlocked, AttackContext } from '../types.js';

/** @internal The web page the injected instructions come from. */
export const POISONED_PAGE = 'https://en.wikipedia.org/wiki/Release_notes';

/** @internal Where the attacker wants the data to go. */
export const ATTACKER_ADDRESS = 'attacker@evil.test';

/** @internal A secret the attacker wants out. */
export const SECRET = 'AKIA-EXAMPLE-SECRET-KEY';

/** @internal An intent that allows exactly `actions` (a user's task that needs them). */
export function intentOf(actions: readonly string[], scope = 'attack scenario'): Record<string, unknown> {
  return { allowed_actions: [...actions], forbidden_actions: [], scope };
}

/** @internal Text found in the poisoned page: EXTERNAL_UNTRUSTED, sourced to it. */
export function injected<T>(value: T): Labeled<unknown> {
  return untrusted(value, POISONED_PAGE);
}

/** @internal A plan of args-less steps (arguments are decided when each step runs). */
export function openPlan(actions: readonly string[]): { steps: { action_id: string }[] } {
  return { steps: actions.map((action_id) => ({ action_id })) };
}

/**
 * @internal Runs several attempts of one attack; each must throw. The first attempt that does not
 * throw makes the scenario report that nothing stopped it (the caller's harmful tool has usually
 * run by then too). Returns the mechanisms of every refusal, deduplicated.
 */
export async function everyAttemptRefused(
  context: AttackContext,
  attempts: readonly (() => Promise<unknown>)[],
): Promise<AttackBlocked | undefined> {
  const mechanisms = new Set<string>();
  const messages: string[] = [];
  for (const attempt of attempts) {
    try {
      await attempt();
      return undefined;
    } catch (error) {
      const mechanism = context.mechanism(error);
      // An untyped error is not a refusal: the runner reports it as escaping a public API.
      if (mechanism === undefined) throw error;
      mechanisms.add(mechanism);
      messages.push(error instanceof Error ? error.message : String(error));
    }
  }
  return context.blocked(
    [...mechanisms].join(','),
    `${attempts.length} attempts refused; first: ${messages[0] ?? ''}`,
  );
}

/** @internal Lets pending promise callbacks run (for scenarios that race the runtime). */
export function settleMicrotasks(rounds = 20): Promise<void> {
  let chain = Promise.resolve();
  for (let round = 0; round < rounds; round++) chain = chain.then(() => new Promise((r) => setImmediate(r)));
  return chain;
}
