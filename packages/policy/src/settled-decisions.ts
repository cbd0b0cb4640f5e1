import type { PolicyDecision } from '@ape/core';

/** Actions one {@link SettledDecisions} keeps decisions for; past it, later actions are settled on every call. */
export const MAX_SETTLED_ACTIONS = 4096;

/** Outcomes (which matching rules applied) kept per action; past it, new outcomes are settled on every call. */
export const MAX_SETTLED_OUTCOMES = 16;

/**
 * Decisions one {@link SettledDecisions} keeps in all (a few MiB at most, whatever the calls: actions
 * and arguments come from the model); past it, new outcomes are settled on every call.
 */
export const MAX_SETTLED_DECISIONS = 16_384;

/**
 * The most rules matching one action that an outcome key (one bit per rule) covers; an action with
 * more is settled on every call.
 */
export const MAX_KEYED_RULES = 30;

interface ActionEntry<R> {
  /** The frozen list of rules the key's bits refer to (the pattern index's answer for the action). */
  readonly rules: readonly R[];
  readonly outcomes: Map<number, PolicyDecision>;
}

/**
 * @internal The decisions a rule set already settled for calls that no check before the rules
 * denied, keyed by action and by which of the action's matching rules applied (bit `i` for
 * `rules[i]`). A decision is a function of exactly these (its rule ids and reason are built from
 * the action and the applying and unmet rules), so an equal key answers with the same frozen
 * decision instead of building its ids and reason again. An entry is used only with the very list
 * of rules it was made for. Bounded in actions, in outcomes per action and in decisions in all;
 * what does not fit is settled on each call, as before.
 */
export class SettledDecisions<R> {
  readonly #byAction = new Map<string, ActionEntry<R>>();
  readonly #maxActions: number;
  readonly #maxOutcomes: number;
  readonly #maxDecisions: number;
  #decisions = 0;

  constructor(
    maxActions = MAX_SETTLED_ACTIONS,
    maxOutcomes = MAX_SETTLED_OUTCOMES,
    maxDecisions = MAX_SETTLED_DECISIONS,
  ) {
    this.#maxActions = maxActions;
    this.#maxOutcomes = maxOutcomes;
    this.#maxDecisions = maxDecisions;
  }

  /**
   * The decision for `action` when the rules of `rules` whose bits are set in `applied` apply:
   * the kept one, or `settle()`'s answer (kept when the bounds allow).
   */
  decision(
    action: string,
    rules: readonly R[],
    applied: number,
    settle: () => PolicyDecision,
  ): PolicyDecision {
    let entry = this.#byAction.get(action);
    if (entry !== undefined && entry.rules === rules) {
      const kept = entry.outcomes.get(applied);
      if (kept !== undefined) return kept;
    }
    const decision = settle();
    if (this.#decisions >= this.#maxDecisions) return decision;
    if (entry === undefined) {
      if (this.#byAction.size >= this.#maxActions) return decision;
      entry = { rules, outcomes: new Map() };
      this.#byAction.set(action, entry);
    } else if (entry.rules !== rules || entry.outcomes.size >= this.#maxOutcomes) {
      return decision;
    }
    entry.outcomes.set(applied, decision);
    this.#decisions += 1;
    return decision;
  }

  /** Actions with kept decisions (for tests of the bounds). */
  get actions(): number {
    return this.#byAction.size;
  }

  /** Decisions kept in all (for tests of the bounds). */
  get decisions(): number {
    return this.#decisions;
  }

  /** Decisions kept for `action` (for tests of the bounds). */
  outcomesOf(action: string): number {
    return this.#byAction.get(action)?.outcomes.size ?? 0;
  }
}
