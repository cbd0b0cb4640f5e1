/**
 * How far a usage counter reaches: one session (and the sessions that explicitly continue it), a
 * lineage (every session a host starts for one connection, user or thread) or a whole tenant.
 */
export type UsageScope = 'session' | 'lineage' | 'tenant';

/** The usage scopes, narrowest first. */
export const USAGE_SCOPES = Object.freeze([
  'session',
  'lineage',
  'tenant',
] as const satisfies readonly UsageScope[]);

/**
 * One counter a call must fit under. `key` is built by the runtime and always starts with the
 * tenant (`<tenant>\u0000<scope>\u0000<scope id>\u0000<limit id>`), so one tenant's counters can never be
 * read or written through another's keys.
 */
export interface UsageCounter {
  readonly key: string;
  /** The most uses the counter admits (within the window when `windowMs` is set). 0 admits none. */
  readonly max: number;
  /**
   * A sliding window in milliseconds: a use counts while `now - usedAt < windowMs`. Absent: uses
   * never expire. Sliding (not fixed buckets), so no window of this length ever holds more than `max`.
   */
  readonly windowMs?: number;
}

/** What {@link UsageStore.acquire} is asked. */
export interface UsageAcquireRequest {
  readonly counters: readonly UsageCounter[];
  /** Milliseconds since the epoch (the runtime's clock); the time the uses are recorded at. */
  readonly now: number;
}

/** A successful acquisition; hand it back to {@link UsageStore.release} to undo it. */
export interface UsageReservation {
  /** Opaque to the caller; unique per acquisition. */
  readonly id: string;
  readonly keys: readonly string[];
  readonly at: number;
}

/** The answer of {@link UsageStore.acquire}: every counter took one use, or none did. */
export type UsageAcquireResult =
  | { readonly ok: true; readonly reservation: UsageReservation }
  | {
      readonly ok: false;
      /** The first counter (in request order) that had no room. */
      readonly key: string;
      /** Its uses in the window at `now`. */
      readonly used: number;
      readonly max: number;
    };

/** What {@link UsageStore.begin} is asked: one gated call's store work, in one step. */
export interface UsageBeginRequest {
  /** The counters the call must fit under, as for {@link UsageStore.acquire} (may be empty). */
  readonly counters: readonly UsageCounter[];
  /** Milliseconds since the epoch (the runtime's clock); the time the uses are recorded at. */
  readonly now: number;
  /** The key of the previous action the call is decided against (read before anything is written). */
  readonly previousKey: string;
  /**
   * Written as the previous action under `previousKey` when every counter was acquired; absent:
   * nothing is written (the runtime writes it later with `setPreviousAction`, e.g. for a token
   * from `authorize` that runs later, or after a human approved an escalation).
   */
  readonly action?: string;
  /**
   * The version of the write, chosen by the caller and unique per call (the runtime uses a random
   * UUID); absent: the store makes one. Knowing it, a caller whose `begin` failed or did not answer
   * in time can still undo the write (`undo({ written: { key: previousKey, version } })`): an undo
   * that arrives before its `begin` voids the version, and that `begin` then writes nothing.
   */
  readonly version?: string;
}

/**
 * A previous-action write made by {@link UsageStore.begin}; hand it to {@link UsageStore.undo} to
 * take it back.
 */
export interface UsagePreviousWrite {
  readonly key: string;
  /**
   * What `key` held before the write; `undefined`: nothing. For information: an undo restores from
   * the store's own record of the write, which follows later undos (see {@link UsageStore.undo}).
   */
  readonly replaced: string | undefined;
  /** Unique per write: the request's `version`, or one the store made. */
  readonly version: string;
}

/** The answer of {@link UsageStore.begin}. */
export interface UsageBeginResult {
  /** The previous action under `previousKey` before this call wrote anything. */
  readonly previous: string | undefined;
  /** The acquisition of every counter, exactly as {@link UsageStore.acquire} would answer. */
  readonly result: UsageAcquireResult;
  /** Present when `action` was given and the acquisition succeeded: the write to undo on a refusal. */
  readonly written?: UsagePreviousWrite;
}

/** What {@link UsageStore.undo} takes back: a reservation, a previous-action write, or both. */
export interface UsageUndoRequest {
  readonly reservation?: UsageReservation;
  /** The write to void: `begin`'s `written`, or `{ key: previousKey, version }` of the request. */
  readonly written?: Pick<UsagePreviousWrite, 'key' | 'version'>;
}

/**
 * The state that limits an agent's future: windowed call counters (`limits`) and the previous
 * action (`tool_transitions`), keyed by scope so that nothing a model can provoke (a denied
 * escalation, a new session, a policy reload) resets them. The in-memory store of `@ape/core` is the
 * default for one process; `@ape/redis` shares it across a fleet.
 *
 * Contract:
 * - Called only by the runtime's gate (and plan review); never by policies or tools. With `begin`
 *   and `undo`, an allowed call makes one store call (`begin`), a refused one two (`begin`, then
 *   `undo`); a store without them gets three (`previousAction`, `acquire`, `setPreviousAction`).
 * - `acquire` is atomic across every caller of the store (all processes, for a shared store): either
 *   every counter has room (`used < max` within its window at `now`) and each records one use at
 *   `now`, or nothing changes. Under any concurrency no counter ever holds more than `max` uses in
 *   any window of `windowMs`.
 * - `release` undoes exactly the uses of one reservation (a call refused after it acquired, e.g. an
 *   escalation denied); releasing twice, or a reservation the store does not know, changes nothing.
 * - `previousAction`/`setPreviousAction` read and write the last action that ran under a key.
 * - `begin` (optional, with `undo`) is one atomic step across every caller: read the previous action
 *   under `previousKey`; acquire every counter exactly as `acquire` does (all or none); only when
 *   the acquisition succeeded and `action` is given, write `action` under `previousKey` with a fresh
 *   version. `undo` (optional, with `begin`) is one atomic step: release the reservation (as
 *   `release`) and void the write. The previous action must always be an action that ran (or is
 *   running): after any interleaving of begins and undos on one key it equals the action of the
 *   last begun write that was not undone, or the last `setPreviousAction` after it, or what the
 *   key held before them, never a voided write. So a store keeps, per write, what it replaced (and
 *   the write that replaced it): undoing the current write restores its nearest predecessor that is
 *   not voided; undoing an overwritten write changes no value but splices it out of the chain, so
 *   a later undo never restores it. Undoing twice changes nothing; undoing a version the store
 *   has not seen voids it, and a later `begin` with that version writes nothing (its answer still
 *   carries `written`). A store may forget old writes (bounded history); undoing a forgotten write
 *   that is still current removes the previous action. A store that
 *   implements neither keeps working: the runtime falls back to the three separate calls. A store
 *   must implement both or neither (the runtime uses them only together).
 * - Every method either completes or throws/rejects; the runtime bounds the wait and treats a throw,
 *   a rejection or a timeout as a DENY (fail closed). A store must never report room it has not
 *   recorded.
 * - Keys are opaque strings chosen by the runtime; a store must not interpret them beyond equality.
 */
export interface UsageStore {
  acquire(request: UsageAcquireRequest): UsageAcquireResult | Promise<UsageAcquireResult>;
  release(reservation: UsageReservation): void | Promise<void>;
  /** Uses of each counter in its window at `now`, in request order (for display and plan review). */
  usage(counters: readonly UsageCounter[], now: number): readonly number[] | Promise<readonly number[]>;
  previousAction(key: string): string | undefined | Promise<string | undefined>;
  setPreviousAction(keys: readonly string[], action: string): void | Promise<void>;
  /**
   * Reads the previous action, acquires the counters and (on success, when `action` is given)
   * writes `action` as the previous action, in one atomic step: one round trip for a shared store.
   * Optional; see the contract above. A malformed answer is a DENY.
   */
  begin?(request: UsageBeginRequest): UsageBeginResult | Promise<UsageBeginResult>;
  /**
   * Takes back what `begin` did for a call refused before its tool ran (or whose `begin` failed):
   * releases the reservation and voids the write, restoring the nearest predecessor that was not
   * voided when the write is still current, in one atomic step. Optional, with `begin`.
   */
  undo?(request: UsageUndoRequest): void | Promise<void>;
  /**
   * `true` for a store whose calls cost no round trip (it lives in the process, like
   * `createInMemoryUsageStore`): the gate then makes the separate, cheaper calls even when `begin`
   * and `undo` exist. Leave it out for a shared store.
   */
  readonly inProcess?: boolean;
}

/**
 * One limit of a policy as the runtime enforces it through a {@link UsageStore}. Produced by the
 * policy (`PolicyEvaluator.limitsFor`), precomputed at load time.
 */
export interface UsageLimit {
  /** The limit's rule id (decisions and audit records name it). */
  readonly id: string;
  readonly max: number;
  readonly scope: UsageScope;
  /** Sliding window in milliseconds; absent: the whole scope's life. */
  readonly windowMs?: number;
  /** The limit's `reason` from the policy, if any. */
  readonly reason?: string;
}
