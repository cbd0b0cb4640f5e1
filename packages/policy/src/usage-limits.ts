import type { UsageLimit } from '@ape/core';
import type { CompiledLimit } from './evaluator.js';

/** Distinct sets of limits remembered for actions the policy does not name (bounded). */
const MAX_REMEMBERED_SETS = 4096;

const NO_LIMITS: readonly UsageLimit[] = Object.freeze([]);

/**
 * @internal The frozen `UsageLimit` arrays `limitsFor` returns, one per distinct set of matching
 * limits. Keyed by the limits' ids (unique in a policy, and ids never contain a newline), so every
 * action that counts against the same limits gets the very same array. Past the bound, a new set
 * gets an equal but fresh array: identity then holds only for the sets already remembered, which
 * include every action id the policy names (they are resolved at load time).
 */
export class UsageLimitTable {
  readonly #bySet = new Map<string, readonly UsageLimit[]>();

  of(limits: readonly CompiledLimit[]): readonly UsageLimit[] {
    if (limits.length === 0) return NO_LIMITS;
    let key = limits[0]!.id;
    for (let index = 1; index < limits.length; index++) key += `\n${limits[index]!.id}`;
    const known = this.#bySet.get(key);
    if (known !== undefined) return known;
    const usage = Object.freeze(limits.map((limit) => limit.usage));
    if (this.#bySet.size < MAX_REMEMBERED_SETS) this.#bySet.set(key, usage);
    return usage;
  }
}
