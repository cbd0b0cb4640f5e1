import type { UsageLimit } from '@ape/core';
import type { CompiledLimit } from './evaluator.js';

/** Distinct sets of limits remembered for actions the policy does not name (bounded). */
const MAX_REMEMBERED_SETS = 4096;

/** @internal The answer of `limitsFor` for an action no limit counts. */
export const NO_LIMITS: readonly UsageLimit[] = Object.freeze([]);

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
    // A limit whose patterns match an action twice (`read_file` and `read_*`) is listed once: the
    // runtime takes one use per listed limit, so a duplicate would count one call twice.
    const distinct: UsageLimit[] = [];
    const seen = new Set<string>();
    let key = '';
    for (let index = 0; index < limits.length; index++) {
      const limit = limits[index]!;
      if (seen.has(limit.id)) continue;
      seen.add(limit.id);
      distinct.push(limit.usage);
      key += seen.size === 1 ? limit.id : `\n${limit.id}`;
    }
    const known = this.#bySet.get(key);
    if (known !== undefined) return known;
    const usage = Object.freeze(distinct);
    if (this.#bySet.size < MAX_REMEMBERED_SETS) this.#bySet.set(key, usage);
    return usage;
  }
}
