/**
 * What a revocation stops: one session (`session`), every session of a lineage (`lineage`) or the
 * whole tenant (neither). Giving both `session` and `lineage` is malformed.
 */
export interface RevocationTarget {
  readonly tenant: string;
  readonly lineage?: string;
  readonly session?: string;
}

/** Who revoked what, when and why. */
export interface Revocation {
  readonly target: RevocationTarget;
  /** Why (shown to operators and recorded in the audit log). */
  readonly reason: string;
  /** Who revoked (an operator id, `"ape revoke"`, ...). */
  readonly revokedBy: string;
  /** Milliseconds since the epoch on the revoking process's clock. */
  readonly revokedAt: number;
}

/** The call being checked: its tenant, its session and, when the host gives one, its lineage. */
export interface RevocationSubject {
  readonly tenant: string;
  readonly session: string;
  readonly lineage?: string;
}

/** The answer of {@link RevocationFeed.check}. Anything but `ok: true` must stop the call. */
export type RevocationStatus =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'revoked'; readonly revocation: Revocation }
  | {
      /**
       * The local view is older than the feed's bound (the shared store has not answered recently),
       * or the tenant is not one the feed watches: the feed cannot vouch for the call (fail closed).
       */
      readonly ok: false;
      readonly reason: 'stale';
      /** How old the view is in milliseconds (`Infinity` when it was never loaded). */
      readonly ageMs: number;
      readonly boundMs: number;
    };

/**
 * A kill switch: revoke one session, a lineage or a whole tenant, and every process stops issuing
 * and consuming tokens for it within a bounded time. The in-memory feed of `@ape/core` serves one
 * process; `@ape/redis` shares one across a fleet.
 *
 * Contract:
 * - `check` is called by the runtime's gate before it issues a token and again before it consumes
 *   one; it is synchronous and answers from a local view, so the gate pays no round trip. It never
 *   throws: a view it cannot vouch for answers `stale`, and the gate denies.
 * - A feed keeps its view no older than its bound: a revocation made anywhere is seen by `check` in
 *   every process within that bound, or `check` answers `stale` for the tenant (never `ok: true`
 *   from a view older than the bound).
 * - `revoke` resolves once the revocation is stored where every process reads it, and the revoking
 *   feed's own `check` sees it at once. Revoking the same target again keeps it revoked (the latest
 *   reason wins). Revocations hold until `lift`.
 * - `lift` removes the revocation of exactly `target` (not narrower or wider ones); resolves to
 *   whether there was one.
 * - `revoke`, `lift` and `list` either complete or throw/reject (`StoreUnavailableError` for a
 *   shared store that fails or exceeds its time bound).
 */
export interface RevocationFeed {
  check(subject: RevocationSubject): RevocationStatus;
  revoke(
    target: RevocationTarget,
    details: { readonly reason: string; readonly revokedBy: string },
  ): Promise<void>;
  lift(target: RevocationTarget): Promise<boolean>;
  /** The revocations in force for `tenant` (read from the shared store, not the local view). */
  list(tenant: string): Promise<readonly Revocation[]>;
}
