/** The outcome of a policy evaluation. */
export type Decision = 'ALLOW' | 'DENY' | 'ESCALATE';

/**
 * How far the data behind a value can be trusted, most trusted first. Anything unknown is treated as
 * `EXTERNAL_UNTRUSTED`.
 */
export type ProvenanceLabel = 'SYSTEM_TRUSTED' | 'USER_TRUSTED' | 'EXTERNAL_UNTRUSTED';

/** What the policy may know about the session a call belongs to. */
export interface SessionContext {
  /** The session id. */
  readonly id: string;
  /** The action of the previous executed step, for `tool_transitions`. */
  readonly previousAction?: string;
  /**
   * Calls already executed, per action id. The runtime no longer sends it: usage limits are counted
   * by its `UsageStore` (`PolicyEvaluator.limitsFor`). A policy may still read it from other callers.
   */
  readonly calls?: Readonly<Record<string, number>>;
  /**
   * Uses already counted per limit id (in the limit's own scope and window, as the `UsageStore`
   * reports them). When present, the policy judges every limit by it instead of `calls`.
   */
  readonly usage?: Readonly<Record<string, number>>;
}

/** The part of an intent the policy uses to narrow its answer. */
export interface IntentScope {
  readonly allowed_actions: readonly string[];
  readonly forbidden_actions: readonly string[];
}

/** One tool call, as the policy sees it. */
export interface ActionRequest {
  readonly tenant: string;
  readonly action: string;
  /** The call's arguments as plain JSON (labelled values already unwrapped). */
  readonly args: Readonly<Record<string, unknown>>;
  /** The effective (least trusted) label of everything that flowed into `args`. */
  readonly provenance: ProvenanceLabel;
  /**
   * The label of each leaf of `args`, keyed by RFC 6901 JSON pointer (`/to`, `/items/0/url`): a
   * frozen object without a prototype, built by the runtime from labelled values (plain leaves carry
   * the call's declared label). Absent when the call has no arguments. A leaf it does not name is
   * judged by `provenance` (never more trust). Policies read it through `x-ape-provenance`.
   */
  readonly argLabels?: Readonly<Record<string, ProvenanceLabel>>;
  readonly session?: SessionContext;
  /** When given, the decision is narrowed to it: an action outside the intent is DENY. */
  readonly intent?: IntentScope;
}

/** A policy's answer for one request. A value, never an exception. */
export interface PolicyDecision {
  readonly decision: Decision;
  /** The ids of the rules that produced the decision (synthetic ids such as `forbidden_actions[0]` for list entries). */
  readonly rules: readonly string[];
  /** One human-readable sentence. */
  readonly reason: string;
  /** The digest of the policy that decided (sha256 of its canonical form). */
  readonly policy: string;
  /** Set when the decision is a DENY because evaluation failed (fail closed): the error code. */
  readonly code?: string;
}

/** Everything a token is bound to; consumption checks every field. */
export interface TokenBinding {
  readonly tenant: string;
  readonly session: string;
  readonly intentVersion: string;
  readonly planHash: string;
  readonly stepIndex: number;
  readonly action: string;
  /** sha256 of the canonical JSON of the call's arguments. */
  readonly argsHash: string;
}

/** The fields of a {@link TokenBinding}, in the order consumption checks them. */
export const TOKEN_BINDING_FIELDS = Object.freeze([
  'tenant',
  'session',
  'intentVersion',
  'planHash',
  'stepIndex',
  'action',
  'argsHash',
] as const satisfies readonly (keyof TokenBinding)[]);

/**
 * An authority token: an opaque, frozen, single-use capability. Only the authority that issued it
 * recognises it; a secret id, when it has one (a token kept in a `TokenStore`), is never exposed,
 * and `JSON.stringify` shows only the fingerprint.
 */
export interface AuthorityToken {
  /**
   * A non-secret, short identifier safe to log: random, or derived from the token's secret id by a
   * one-way hash (a token kept in a `TokenStore`). Never reveals a secret.
   */
  readonly fingerprint: string;
  /** Milliseconds since the epoch, on the authority's clock. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** Why tokens were revoked (the normative list, plus an explicit host request). */
export type RevocationReason =
  | 'explicit'
  | 'intent_updated'
  | 'plan_changed'
  | 'terminated'
  | 'escalation_denied'
  | 'policy_reloaded'
  | 'policy_violation'
  | 'tenant_mismatch';

/** The lifecycle events every audit sink receives (`noun.verb`). */
export type AuditEventType =
  | 'session.created'
  | 'intent.set'
  | 'plan.approved'
  | 'plan.rejected'
  | 'plan.extended'
  | 'decision.made'
  | 'escalation.requested'
  | 'escalation.approved'
  | 'escalation.denied'
  | 'token.issued'
  | 'token.consumed'
  | 'token.revoked'
  | 'tool.executed'
  | 'state.changed'
  | 'session.terminated';

/** Every {@link AuditEventType}, for validation and exhaustive tests. */
export const AUDIT_EVENT_TYPES = Object.freeze([
  'session.created',
  'intent.set',
  'plan.approved',
  'plan.rejected',
  'plan.extended',
  'decision.made',
  'escalation.requested',
  'escalation.approved',
  'escalation.denied',
  'token.issued',
  'token.consumed',
  'token.revoked',
  'tool.executed',
  'state.changed',
  'session.terminated',
] as const satisfies readonly AuditEventType[]);

/**
 * One audit event as the runtime emits it. `data` is JSON and already redacted: argument values
 * appear only as a digest and a list of names unless the host opted fields in; token ids never
 * appear, only fingerprints.
 */
export interface AuditEvent {
  readonly type: AuditEventType;
  readonly tenant: string;
  readonly session: string;
  /** Milliseconds since the epoch, from the runtime's clock. */
  readonly time: number;
  readonly data: Readonly<Record<string, unknown>>;
}
