import type { ActionRequest, PolicyDecision } from '../types.js';
import type { UsageLimit } from './usage-store.js';

/**
 * A compiled policy, as the runtime sees it. Implemented by `@ape/policy`.
 *
 * Contract:
 * - Called by the runtime on plan approval (once per step) and by the gate on every call.
 * - `evaluate` is deterministic: the same request gives the same decision. It must never throw and
 *   never return ALLOW because something failed: an internal error is a DENY carrying `code`. The
 *   runtime still treats a throw as DENY (fail closed).
 * - `evaluate` is synchronous and cheap: everything is precomputed when the policy is compiled.
 */
export interface PolicyEvaluator {
  /** sha256 of the policy's canonical form; every decision carries it. */
  readonly digest: string;
  /** Decides one request. */
  evaluate(request: ActionRequest): PolicyDecision;
  /**
   * Whether some call of `action` by `tenant` could be ALLOW or ESCALATE (with suitable arguments,
   * provenance and session). Used to approve plan steps that do not fix their arguments and to list
   * tools. A `false` answer is final; `true` promises nothing about a given call.
   */
  mayPermit(tenant: string, action: string): boolean;
  /**
   * Whether some call of `action` by `tenant` could be ESCALATE (a rule of the policy or of
   * `tenant`'s overlay escalates it under some arguments, provenance or session). A `false` answer
   * is final; `true` promises nothing about a given call. Precomputed or cheap: the framework
   * adapters ask it before every call, to skip their escalation pre-check. Must not throw. A policy
   * without this method may escalate anything.
   */
  mayEscalate?(tenant: string, action: string): boolean;
  /**
   * The usage limits (`limits` of the policy and of `tenant`'s overlay) that a call of `action` by
   * `tenant` counts against, which the runtime enforces through its `UsageStore` (atomically, when
   * the call is allowed to proceed). Precomputed at load time; must not throw; returns the same
   * frozen array for the same arguments. A policy without this method has no usage limits.
   */
  limitsFor?(tenant: string, action: string): readonly UsageLimit[];
}
