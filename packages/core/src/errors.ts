const APE_ERROR_BRAND = Symbol.for('ape.error');

/**
 * Every stable error code APE can raise. Codes never change meaning once published; new codes may be
 * added in minor releases.
 */
export type ApeErrorCode =
  | 'INTENT_INVALID'
  | 'PLAN_INVALID'
  | 'ACTION_INVALID'
  | 'ARGS_INVALID'
  | 'POLICY_DENY'
  | 'POLICY_INVALID'
  | 'ESCALATION_REQUIRED'
  | 'ESCALATION_DENIED'
  | 'AUTHORITY_EXPIRED'
  | 'UNAUTHORIZED_ACTION'
  | 'RUNTIME_STATE'
  | 'PROVENANCE'
  | 'TENANT_MISMATCH'
  | 'AUDIT_FAILURE'
  | 'AUDIT_INVALID'
  | 'AUDIT_KEY_INVALID'
  | 'NON_JSON_VALUE'
  | 'CONFIG_INVALID'
  | 'CLOCK_INVALID'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL';

/** Structured, JSON-safe context attached to an error: step index, field path, file, line, ... */
export type ApeErrorDetails = Readonly<Record<string, unknown>>;

/**
 * The base of every error APE throws. Check with `ApeError.isInstance(e)` (or a subclass's
 * `isInstance`) rather than `instanceof`: the brand survives two installed copies of the package.
 */
export class ApeError extends Error {
  /** The code every instance of this class carries; `undefined` on the base class. */
  static readonly CODE: ApeErrorCode | undefined = undefined;

  readonly code: ApeErrorCode;
  readonly details: ApeErrorDetails;
  declare readonly [APE_ERROR_BRAND]: true;

  constructor(
    code: ApeErrorCode,
    message: string,
    details: ApeErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...details });
    Object.defineProperty(this, APE_ERROR_BRAND, { value: true, enumerable: false });
  }

  /**
   * True when `value` is an APE error of this class: on `ApeError` any APE error, on a subclass one
   * whose `code` is that subclass's code. Works across package copies and realms.
   */
  static isInstance<T extends ApeError>(
    this: { readonly CODE: ApeErrorCode | undefined; readonly prototype: T },
    value: unknown,
  ): value is T {
    if (typeof value !== 'object' || value === null) return false;
    if ((value as { [APE_ERROR_BRAND]?: unknown })[APE_ERROR_BRAND] !== true) return false;
    return this.CODE === undefined || (value as { code?: unknown }).code === this.CODE;
  }

  /** A JSON form without the stack: `{ name, code, message, details }`. */
  toJSON(): { name: string; code: ApeErrorCode; message: string; details: ApeErrorDetails } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** The intent is malformed or contradicts itself (`INTENT_INVALID`). */
export class IntentError extends ApeError {
  static override readonly CODE = 'INTENT_INVALID' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('INTENT_INVALID', message, details, options);
  }
}

/** The plan is malformed or one of its steps is outside the intent or denied (`PLAN_INVALID`). */
export class PlanError extends ApeError {
  static override readonly CODE = 'PLAN_INVALID' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('PLAN_INVALID', message, details, options);
  }
}

/** An action description that crosses the gate does not fit the action schema (`ACTION_INVALID`). */
export class ActionError extends ApeError {
  static override readonly CODE = 'ACTION_INVALID' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('ACTION_INVALID', message, details, options);
  }
}

/** A call's arguments do not fit the tool's declared schema or the plan's fixed arguments (`ARGS_INVALID`). */
export class ArgumentsError extends ApeError {
  static override readonly CODE = 'ARGS_INVALID' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('ARGS_INVALID', message, details, options);
  }
}

/** The policy (or an internal error on the decision path, failing closed) denied the call (`POLICY_DENY`). */
export class PolicyDenyError extends ApeError {
  static override readonly CODE = 'POLICY_DENY' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('POLICY_DENY', message, details, options);
  }
}

/** A policy document is not a valid policy (`POLICY_INVALID`); `details.findings` lists every problem. */
export class PolicyError extends ApeError {
  static override readonly CODE = 'POLICY_INVALID' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('POLICY_INVALID', message, details, options);
  }
}

/**
 * The call needs a human approval that has not been given (`ESCALATION_REQUIRED`).
 * @deprecated Nothing in APE throws it: an escalated call waits for the `EscalationHandler` and a
 * refusal is an `EscalationDeniedError` (`ESCALATION_DENIED`). Kept so existing imports and
 * `isInstance` checks compile; it will be removed in the next major version.
 */
export class EscalationRequiredError extends ApeError {
  static override readonly CODE = 'ESCALATION_REQUIRED' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('ESCALATION_REQUIRED', message, details, options);
  }
}

/** The escalation was denied, timed out or its handler failed (`ESCALATION_DENIED`). */
export class EscalationDeniedError extends ApeError {
  static override readonly CODE = 'ESCALATION_DENIED' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('ESCALATION_DENIED', message, details, options);
  }
}

/** The authority token has expired (`AUTHORITY_EXPIRED`). */
export class AuthorityExpiredError extends ApeError {
  static override readonly CODE = 'AUTHORITY_EXPIRED' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('AUTHORITY_EXPIRED', message, details, options);
  }
}

/**
 * The call has no valid authority: unknown, forged, copied, consumed or revoked token, or a token
 * whose binding does not match the call (`UNAUTHORIZED_ACTION`).
 */
export class UnauthorizedActionError extends ApeError {
  static override readonly CODE = 'UNAUTHORIZED_ACTION' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('UNAUTHORIZED_ACTION', message, details, options);
  }
}

/** The operation is not allowed in the runtime's current state (`RUNTIME_STATE`). */
export class RuntimeStateError extends ApeError {
  static override readonly CODE = 'RUNTIME_STATE' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('RUNTIME_STATE', message, details, options);
  }
}

/** Data of insufficient trust tried to create, change or approve authority (`PROVENANCE`). */
export class ProvenanceError extends ApeError {
  static override readonly CODE = 'PROVENANCE' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('PROVENANCE', message, details, options);
  }
}

/** Something of one tenant was presented to another (`TENANT_MISMATCH`). */
export class TenantIsolationError extends ApeError {
  static override readonly CODE = 'TENANT_MISMATCH' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('TENANT_MISMATCH', message, details, options);
  }
}

/** The audit sink failed to record an event; the step it guarded did not run (`AUDIT_FAILURE`). */
export class AuditError extends ApeError {
  static override readonly CODE = 'AUDIT_FAILURE' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('AUDIT_FAILURE', message, details, options);
  }
}

/** A value that must be plain JSON is not (function, NaN, cycle, BigInt, class instance, ...) (`NON_JSON_VALUE`). */
export class CanonicalJsonError extends ApeError {
  static override readonly CODE = 'NON_JSON_VALUE' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('NON_JSON_VALUE', message, details, options);
  }
}

/** A host passed malformed options to an APE constructor or factory (`CONFIG_INVALID`); `details.field` names the option. */
export class ConfigurationError extends ApeError {
  static override readonly CODE = 'CONFIG_INVALID' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, details, options);
  }
}

/**
 * The injected clock returned something that is not a finite number of milliseconds (`NaN`,
 * `±Infinity`, a string, ...); the operation that read it was refused (`CLOCK_INVALID`).
 * `details.operation` names it and `details.value` shows what the clock returned.
 */
export class ClockError extends ApeError {
  static override readonly CODE = 'CLOCK_INVALID' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('CLOCK_INVALID', message, details, options);
  }
}

/**
 * An APE component failed in a way no more specific code describes: a solver that cannot start, a
 * downstream server that closed, an authority that failed to revoke tokens (`INTERNAL`). On a decision
 * path it is always a denial; `details` names the operation or field and `cause` holds the original error.
 */
export class InternalError extends ApeError {
  static override readonly CODE = 'INTERNAL' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('INTERNAL', message, details, options);
  }
}

/** The message of any thrown value: `error.message` for an `Error`, `String(error)` otherwise. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A shared store (usage counters, approvals, revocations; Redis for a fleet) failed, answered
 * something malformed or did not answer within its bound (`STORE_UNAVAILABLE`). The call it guarded
 * is denied; `details.store` names the store and `details.operation` what it was asked.
 */
export class StoreUnavailableError extends ApeError {
  static override readonly CODE = 'STORE_UNAVAILABLE' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', message, details, options);
  }
}
