import type { AuthorityToken, RevocationReason, TokenBinding } from '../types.js';

/**
 * Issues, checks and revokes authority tokens. Implemented by `@ape/authority` (`AuthorityManager`).
 *
 * Contract:
 * - Called only by the runtime's gate: `issue` after an ALLOW (or an approved ESCALATE), `consume`
 *   immediately before the tool runs.
 * - `issue` returns an opaque, frozen token that only this authority recognises.
 * - `consume` succeeds at most once per token, atomically, also against concurrent callers, and only
 *   when every field of `binding` equals the token's binding and the token is neither expired nor
 *   revoked. Otherwise it throws `UnauthorizedActionError`, `AuthorityExpiredError` or
 *   `TenantIsolationError`, naming the binding field that failed (never the token's secret).
 * - Methods may return promises so that a shared store can back them; the runtime awaits them.
 * - `issueSync`/`consumeSync`, when present, behave exactly as `issue`/`consume` whenever they answer.
 * - If any method throws unexpectedly, the runtime denies the step and the tool does not run.
 */
export interface Authority {
  /**
   * The tenant this authority serves, when it serves exactly one. `createRuntime` refuses an
   * authority whose tenant differs from the runtime's (`TenantIsolationError`).
   */
  readonly tenant?: string;
  issue(binding: TokenBinding): AuthorityToken | Promise<AuthorityToken>;
  consume(token: AuthorityToken, binding: TokenBinding): void | Promise<void>;
  /**
   * Optional synchronous form of `issue`, for an authority that can issue without waiting (its
   * token store answers at once): the token, or `undefined` when it cannot answer without waiting.
   * `undefined` means nothing happened, and the runtime then calls `issue`. Same checks and errors
   * as `issue`, thrown instead of rejected. The runtime prefers it: a gated call then allocates
   * no promise for its token.
   */
  issueSync?(binding: TokenBinding): AuthorityToken | undefined;
  /**
   * Optional synchronous form of `consume`: `true` once the token is consumed; `false` when it
   * cannot answer without waiting. `false` means nothing happened, and the runtime then calls
   * `consume`. Same checks and errors as `consume`, thrown instead of rejected.
   */
  consumeSync?(token: AuthorityToken, binding: TokenBinding): boolean;
  /** Revokes one token; resolves to whether it was outstanding. */
  revoke(token: AuthorityToken, reason: RevocationReason): boolean | Promise<boolean>;
  /** Revokes every outstanding token of one session; resolves to how many. */
  revokeSession(tenant: string, session: string, reason: RevocationReason): number | Promise<number>;
  /** Revokes every outstanding token of one tenant; resolves to how many. */
  revokeTenant(tenant: string, reason: RevocationReason): number | Promise<number>;
}
