import type { Intent } from '../intent.js';
import { isProvenanceLabel } from '../labels.js';
import { ConfigurationError } from '../errors.js';
import type { Authority } from '../ports/authority.js';
import type { AuditSink } from '../ports/audit-sink.js';
import type { Clock } from '../ports/clock.js';
import type { EscalationHandler } from '../ports/escalation-handler.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { UsageStore } from '../ports/usage-store.js';
import type { EnforcementMode } from '../runtime/config.js';
import type { ProvenanceLabel } from '../types.js';
import { DEFAULT_DATAFLOW_MIN_LENGTH, PROVENANCE_MODES, type ProvenanceMode } from './provenance.js';

/** What an adapter does with a refused call. */
export type DenyBehaviour = 'result' | 'throw';

/** The options every framework adapter takes (`createApeAiSdk`, `createApeOpenAIAgents`, `createApeLangChain`). */
export interface AdapterOptions {
  /** The one tenant of every session. */
  readonly tenant: string;
  /** The compiled policy (`loadPolicy` / `compilePolicy` from `@ape/policy`). */
  readonly policy: PolicyEvaluator;
  /** The token authority of the tenant (`new AuthorityManager({ tenant })` from `@ape/authority`), shared by every session. */
  readonly authority: Authority;
  /**
   * The intent of every session. Default: every tool wrapped on the thread is allowed, nothing is
   * forbidden. Wrap all tools before the first call when you rely on the default.
   */
  readonly intent?: Partial<Intent>;
  /**
   * Where limits and the previous action are counted; share it (and, across processes, use
   * `@ape/redis`) so budgets hold across runs and sessions. Default: one in-memory store per adapter.
   */
  readonly usage?: UsageStore;
  /** Where every session's events go. Default: one in-memory sink per adapter (the adapter's `audit`). */
  readonly audit?: AuditSink;
  /**
   * Who decides an escalation the framework's approval flow did not ask about (a call the adapter's
   * pre-check did not expect to escalate). Default: deny.
   */
  readonly escalation?: EscalationHandler;
  /** `context` (default): once untrusted output is in the conversation every later call is untrusted. `dataflow`: only arguments copying untrusted text are. */
  readonly provenance?: ProvenanceMode;
  /** `dataflow`: the shortest run of characters that counts as copied; default 12. */
  readonly dataflowMinLength?: number;
  /** The label of what the user and the host put in the conversation; default `USER_TRUSTED`. */
  readonly userProvenance?: ProvenanceLabel;
  /** `result` (default): a refused call's tool result is the denial text. `throw`: the tool throws the APE error. */
  readonly onDeny?: DenyBehaviour;
  /** Time for the runtimes; use the authority's clock. */
  readonly clock?: Clock;
  /** The runtime's mode; default `enforce`. */
  readonly mode?: EnforcementMode;
  /** How long the gate waits for the fallback escalation handler, in ms. */
  readonly escalationTimeoutMs?: number;
  /** Argument names written to `decision.made` in clear. */
  readonly auditArgs?: readonly string[];
}

/** {@link AdapterOptions} validated, with their defaults applied. */
export interface ResolvedAdapterOptions {
  readonly tenant: string;
  readonly policy: PolicyEvaluator;
  readonly authority: Authority;
  readonly intent: Partial<Intent> | undefined;
  readonly usage: UsageStore | undefined;
  readonly audit: AuditSink | undefined;
  readonly escalation: EscalationHandler | undefined;
  readonly provenance: ProvenanceMode;
  readonly dataflowMinLength: number;
  readonly userProvenance: ProvenanceLabel;
  readonly onDeny: DenyBehaviour;
  readonly clock: Clock | undefined;
  readonly mode: EnforcementMode | undefined;
  readonly escalationTimeoutMs: number | undefined;
  readonly auditArgs: readonly string[] | undefined;
}

/** A `ConfigurationError` (`CONFIG_INVALID`) of the adapter factory `factory`, naming `field`. */
export function adapterConfigError(factory: string, field: string, message: string): ConfigurationError {
  return new ConfigurationError(`${factory}: ${message}`, { field });
}

/**
 * Validates {@link AdapterOptions} for the adapter factory named `factory` (used in messages); the
 * runtime validates the rest when a session starts.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the malformed option in `details.field`.
 */
export function resolveAdapterOptions(factory: string, options: AdapterOptions): ResolvedAdapterOptions {
  const configError = (field: string, message: string) => adapterConfigError(factory, field, message);
  if (typeof options !== 'object' || options === null) throw configError('options', 'options are required.');
  if (typeof options.tenant !== 'string' || options.tenant.length === 0) {
    throw configError('tenant', '`tenant` must be a non-empty string.');
  }
  const policy = options.policy;
  if (typeof policy?.evaluate !== 'function' || typeof policy.mayPermit !== 'function') {
    throw configError('policy', '`policy` must be a compiled policy (loadPolicy from @ape/policy).');
  }
  if (typeof options.authority?.issue !== 'function') {
    throw configError(
      'authority',
      '`authority` must be an Authority (new AuthorityManager({ tenant }) from @ape/authority).',
    );
  }
  const provenance = options.provenance ?? 'context';
  if (!PROVENANCE_MODES.includes(provenance)) {
    throw configError('provenance', "`provenance` must be 'context' or 'dataflow'.");
  }
  const minLength = options.dataflowMinLength ?? DEFAULT_DATAFLOW_MIN_LENGTH;
  if (!Number.isInteger(minLength) || minLength < 4 || minLength > 1_000) {
    throw configError('dataflowMinLength', '`dataflowMinLength` must be an integer from 4 to 1000.');
  }
  const userProvenance = options.userProvenance ?? 'USER_TRUSTED';
  if (!isProvenanceLabel(userProvenance)) {
    throw configError('userProvenance', '`userProvenance` must be a provenance label.');
  }
  const onDeny = options.onDeny ?? 'result';
  if (onDeny !== 'result' && onDeny !== 'throw') {
    throw configError('onDeny', "`onDeny` must be 'result' or 'throw'.");
  }
  if (options.escalation !== undefined && typeof options.escalation?.requestApproval !== 'function') {
    throw configError('escalation', '`escalation` must be an EscalationHandler.');
  }
  if (options.intent !== undefined && (typeof options.intent !== 'object' || options.intent === null)) {
    throw configError('intent', '`intent` must be an object (allowed_actions, forbidden_actions, scope).');
  }
  return {
    tenant: options.tenant,
    policy,
    authority: options.authority,
    intent: options.intent,
    usage: options.usage,
    audit: options.audit,
    escalation: options.escalation,
    provenance,
    dataflowMinLength: minLength,
    userProvenance,
    onDeny,
    clock: options.clock,
    mode: options.mode,
    escalationTimeoutMs: options.escalationTimeoutMs,
    auditArgs: options.auditArgs,
  };
}
