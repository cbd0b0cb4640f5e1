import type { DeepReadonly } from '../deep-freeze.js';
import { InternalError, messageOf, ProvenanceError, RuntimeStateError } from '../errors.js';
import type { ValidatedIntent } from '../intent.js';
import { isAtLeast, isProvenanceLabel } from '../labels.js';
import type { ValidatedPlan } from '../plan.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { UsageReservation } from '../ports/usage-store.js';
import { type RuntimeEvent, type RuntimeState, nextState, transition } from '../state-machine.js';
import type {
  AuditEventType,
  AuthorityToken,
  IntentScope,
  ProvenanceLabel,
  RevocationReason,
} from '../types.js';
import { AuditRecorder, type CallAppends, RECORDED } from './audit-recorder.js';
import type { CallChain } from './call-chain.js';
import type { ResolvedConfig } from './config.js';
import type { FixedArgs } from './prepared-call.js';
import { previousActionKey, releaseQuietly, type UsageScopes } from './usage.js';

/** Which of the two ways of running a session this one uses (DESIGN §9); set by the first use. */
export type SessionMode = 'plan' | 'calls';

/** @internal One outstanding authorisation: the token `authorize` returned and what it was decided with. */
export interface Authorization {
  readonly token: AuthorityToken;
  readonly fingerprint: string;
  readonly provenance: ProvenanceLabel;
  readonly epoch: number;
  readonly reservation: UsageReservation | undefined;
}

/** The least trusted label that may create or change authority (intent, plan, approval). */
export const TRUSTED_ENOUGH: ProvenanceLabel = 'USER_TRUSTED';

/**
 * @internal The mutable state of one session and the few operations every part of the runtime
 * shares. Every change of `state` goes through {@link Session.move} or {@link Session.enterTerminated},
 * both of which apply the state machine's `transition`.
 */
export class Session {
  readonly config: ResolvedConfig;
  readonly recorder: AuditRecorder;
  readonly scopes: UsageScopes;
  /** The usage store key of the previous action ({@link previousActionKey} of `scopes`), built once. */
  readonly previousKey: string;
  policy: PolicyEvaluator;
  policyDigest: string;
  #state: RuntimeState = 'INITIALIZED';
  intent: ValidatedIntent | undefined;
  scope: IntentScope | undefined;
  sessionMode: SessionMode | undefined;
  plan: ValidatedPlan | undefined;
  /** Per plan step with fixed args: their hash, and their canonical JSON when short (see {@link FixedArgs}). */
  fixedArgs: readonly (FixedArgs | undefined)[] = [];
  chain: CallChain | undefined;
  nextStep = 0;
  stepInFlight = false;
  /** The index of the step in flight (meaningful while `stepInFlight`), named when another call is refused. */
  inFlightStep = 0;
  /** Bumped by everything that invalidates an authorisation in progress (intent, plan, policy, end). */
  epoch = 0;
  escalationAbort: AbortController | undefined;
  terminationReason: string | undefined;
  /** The outstanding authorisation of each step: the latest only (authorising again voids the older token). */
  readonly authorizations = new Map<number, Authorization>();

  constructor(config: ResolvedConfig) {
    this.config = config;
    this.policy = config.policy;
    this.policyDigest = readDigest(config.policy);
    this.recorder = new AuditRecorder(config.audit, config.clock, config.tenant, config.sessionId, (reason) =>
      this.failClosed(reason),
    );
    this.scopes = Object.freeze({
      tenant: config.tenant,
      session: config.continuesSession ?? config.sessionId,
      lineage: config.lineage,
    });
    this.previousKey = previousActionKey(this.scopes);
  }

  get state(): RuntimeState {
    return this.#state;
  }

  /** Records an event, dated `at` (a reading of the session clock) or, without it, now. */
  record(type: AuditEventType, data: Record<string, unknown>, at?: number): Promise<void> {
    return this.recorder.record(type, data, at);
  }

  /** Starts one event's append for a call, which drains `appends` before its tool runs. */
  startRecord(appends: CallAppends, type: AuditEventType, data: Record<string, unknown>): void {
    this.recorder.start(appends, type, data);
  }

  /** Applies a transition synchronously and returns the promise of its `state.changed` record. */
  move(event: RuntimeEvent): Promise<void> {
    const from = this.#state;
    const to = transition(from, event);
    this.#state = to;
    if (from === to) return RECORDED;
    return this.record('state.changed', { from, to, event });
  }

  /**
   * Enters TERMINATED through `event` without recording (callers record) and invalidates everything
   * in flight. Returns the state it left.
   */
  enterTerminated(event: 'TERMINATE' | 'DENY_ESCALATION', reason: string): RuntimeState {
    const from = this.#state;
    this.#state = transition(from, event);
    this.terminationReason ??= reason;
    this.epoch++;
    this.voidAuthorizations();
    this.escalationAbort?.abort();
    return from;
  }

  /** Forgets every outstanding authorisation, releasing the usage their calls reserved. */
  voidAuthorizations(): void {
    for (const authorization of this.authorizations.values()) this.release(authorization.reservation);
    this.authorizations.clear();
  }

  /**
   * Step `index` runs with the token `used`: its authorisation is spent. A different outstanding
   * authorisation of the step (left by `authorize` before `executeStep` ran it) is voided: its token
   * revoked and its usage released. Returns `undefined` when there is nothing to wait for (almost
   * every step), so the gate awaits nothing then.
   */
  voidStepAuthorization(index: number, used: string): Promise<void> | undefined {
    const authorization = this.authorizations.get(index);
    if (authorization === undefined) return undefined;
    this.authorizations.delete(index);
    if (authorization.fingerprint === used) return undefined;
    return this.#voidSuperseded(authorization);
  }

  async #voidSuperseded(authorization: Authorization): Promise<void> {
    await this.release(authorization.reservation);
    await this.revokeSuperseded(authorization);
  }

  /** Revokes the token of an authorisation that a newer one (or the step's run) replaced; recorded. */
  async revokeSuperseded(authorization: Authorization): Promise<void> {
    let revoked = false;
    try {
      revoked = (await this.config.authority.revoke(authorization.token, 'explicit')) === true;
    } catch {
      // The gate refuses it anyway: it is no longer the outstanding authorisation.
    }
    await this.record('token.revoked', {
      reason: 'explicit',
      count: revoked ? 1 : 0,
      fingerprint: authorization.fingerprint,
      superseded: true,
    });
  }

  /** Gives back a reservation of a call that did not run (bounded, best effort). */
  release(reservation: UsageReservation | undefined): Promise<void> {
    return releaseQuietly(this.config.usage, reservation, this.config.usageTimeoutMs);
  }

  /** Drops the plan mode plan (or restarts nothing in calls mode) and invalidates authorisations. */
  dropPlan(): void {
    this.plan = undefined;
    this.fixedArgs = [];
    this.nextStep = 0;
    this.epoch++;
    this.voidAuthorizations();
  }

  /** Terminates after an infrastructure failure; revocation is best effort, nothing is recorded. */
  async failClosed(reason: string): Promise<void> {
    if (this.#state === 'TERMINATED') return;
    this.enterTerminated('TERMINATE', reason);
    try {
      await this.config.authority.revokeSession(this.config.tenant, this.config.sessionId, 'terminated');
    } catch {
      // The gate refuses every call of a terminated session; the tokens also expire.
    }
  }

  async revokeSessionTokens(
    reason: RevocationReason,
    extra: Record<string, unknown> = {},
    alwaysRecord = false,
  ): Promise<void> {
    let count: number;
    try {
      count = await this.config.authority.revokeSession(this.config.tenant, this.config.sessionId, reason);
    } catch (error) {
      await this.failClosed('the authority failed to revoke tokens');
      throw new InternalError(
        `The authority failed to revoke the session's tokens (${reason}): ${messageOf(error)}. The session is terminated.`,
        { reason },
        { cause: error },
      );
    }
    if (count > 0 || alwaysRecord) await this.record('token.revoked', { reason, count, ...extra });
  }

  requireTrusted(options: { readonly provenance: ProvenanceLabel } | undefined, what: string): void {
    const provenance: unknown = options?.provenance;
    if (!isAtLeast(provenance, TRUSTED_ENOUGH)) {
      throw new ProvenanceError(
        `Cannot ${what} with provenance ${String(provenance)}: only USER_TRUSTED or SYSTEM_TRUSTED input may create or change authority.`,
        { provenance: isProvenanceLabel(provenance) ? provenance : String(provenance) },
      );
    }
  }

  requireIdle(operation: string): void {
    if (this.stepInFlight) {
      throw new RuntimeStateError(
        `${operation} is not allowed while step ${this.inFlightStep} is in progress.`,
        {
          state: this.#state,
          operation,
        },
      );
    }
  }

  requireTransition(event: RuntimeEvent, operation: string): void {
    if (this.#state === 'TERMINATED') throw this.terminatedError(operation);
    if (nextState(this.#state, event) === undefined) {
      const hint = event === 'SET_INTENT' ? ' The intent is already set; use updateIntent.' : '';
      throw new RuntimeStateError(`${operation} is not allowed in state ${this.#state}.${hint}`, {
        state: this.#state,
        event,
        operation,
      });
    }
  }

  /** Refuses `operation` of `mode` in a session that already runs in the other mode. */
  requireMode(mode: SessionMode, operation: string): void {
    if (this.sessionMode === undefined || this.sessionMode === mode) return;
    const how =
      this.sessionMode === 'calls'
        ? 'it runs in calls mode (runtime.call was used); keep calling runtime.call, or start a new session for a plan'
        : 'it runs in plan mode (a plan was submitted); run its steps with executeStep, or start a new session for calls';
    throw new RuntimeStateError(`${operation} is not allowed in this session: ${how}.`, {
      state: this.#state,
      operation,
      sessionMode: this.sessionMode,
    });
  }

  terminatedError(operation: string): RuntimeStateError {
    return new RuntimeStateError(
      `${operation} is not allowed: the session is terminated (${this.terminationReason ?? 'terminated'}).`,
      { state: 'TERMINATED', operation, reason: this.terminationReason },
    );
  }

  checkEpoch(epoch: number, index: number): void {
    if (this.epoch !== epoch) throw this.epochChanged(index);
  }

  /** The refusal of step `index` when the session changed under it (see {@link checkEpoch}). */
  epochChanged(index: number): RuntimeStateError {
    return new RuntimeStateError(
      `Step ${index} did not run: the session changed (intent, plan, policy or termination) while it was being authorised.`,
      { state: this.#state, step: index },
    );
  }

  /** The hash tokens bind to: the approved plan's, or the calls-mode chain's current head. */
  get planHash(): string | undefined {
    return this.sessionMode === 'calls' ? this.chain?.head : this.plan?.hash;
  }

  get plannedSteps(): DeepReadonly<ValidatedPlan['value']> | undefined {
    return this.sessionMode === 'calls' ? this.chain?.plan : this.plan?.value;
  }
}

/** @internal The policy's digest, or `unknown` when reading it throws. */
export function readDigest(policy: PolicyEvaluator): string {
  try {
    return typeof policy.digest === 'string' ? policy.digest : 'unknown';
  } catch {
    return 'unknown';
  }
}
