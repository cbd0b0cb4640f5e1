import { randomUUID } from 'node:crypto';
import { AuthorityManager } from '@ape/authority';
import {
  type AgentRuntime,
  type AuditSink,
  type Clock,
  createRuntime,
  type EscalationHandler,
  type PolicyEvaluator,
  type ProvenanceLabel,
  type RevocationFeed,
  type UsageStore,
} from '@ape/core';

/**
 * What the gateway does once a denied escalation (or any other cause) has ended the connection's
 * APE session:
 * - `refuse` (the default, the safer): every later `tools/call` on the connection is refused
 *   (`SESSION_ENDED`, audited). The client must reconnect.
 * - `continue`: the next call starts a new APE session in the same lineage, which continues the
 *   first session's counters (`continuesSession`) and shares the lineage's previous action, so
 *   no budget and no ordering rule starts again.
 */
export type McpAfterDeniedEscalation = 'refuse' | 'continue';

/** Every {@link McpAfterDeniedEscalation}. */
export const AFTER_DENIED_ESCALATION_MODES: readonly McpAfterDeniedEscalation[] = Object.freeze([
  'refuse',
  'continue',
]);

/** @internal What {@link ConnectionSessions} needs to start a runtime. */
export interface ConnectionSessionsOptions {
  readonly tenant: string;
  readonly policy: PolicyEvaluator;
  readonly audit: AuditSink;
  readonly escalation: EscalationHandler;
  readonly defaultProvenance: ProvenanceLabel;
  readonly lineage: string | undefined;
  readonly usage: UsageStore;
  readonly revocations: RevocationFeed | undefined;
  readonly afterDeniedEscalation: McpAfterDeniedEscalation;
  readonly clock: Clock | undefined;
  readonly escalationTimeoutMs: number | undefined;
  readonly auditArgs: readonly string[] | undefined;
}

/** @internal The session's intent: every tool the server listed, and what the session is for. */
export interface ConnectionIntent {
  readonly actions: readonly string[];
  readonly scope: string;
}

/**
 * @internal The APE sessions of one client connection: all in one lineage, sharing one usage
 * store. The first starts with the gateway; after it ends, either nothing more runs (`refuse`) or
 * a successor continues its counters (`continue`).
 */
export class ConnectionSessions {
  readonly lineage: string;
  readonly #options: ConnectionSessionsOptions;
  readonly #intent: () => ConnectionIntent;
  #current: AgentRuntime | undefined;
  #first: string | undefined;

  constructor(options: ConnectionSessionsOptions, intent: () => ConnectionIntent) {
    this.#options = options;
    this.#intent = intent;
    this.lineage = options.lineage ?? randomUUID();
  }

  /** The session in force, or the one that ended last. */
  get current(): AgentRuntime | undefined {
    return this.#current;
  }

  /**
   * Why no call may run any more on this connection, or `undefined` while calls may run: the
   * session ended and the mode is `refuse`.
   */
  get ended(): string | undefined {
    const current = this.#current;
    if (current === undefined || current.state !== 'TERMINATED') return undefined;
    return this.#options.afterDeniedEscalation === 'refuse'
      ? "the connection's APE session ended (an escalation was denied, or the session failed closed); every later call on this connection is refused. Reconnect to start again."
      : undefined;
  }

  /** The session calls run in: the current one, or (mode `continue`) a successor of an ended one. */
  async session(): Promise<AgentRuntime> {
    const current = this.#current;
    if (current !== undefined && current.state !== 'TERMINATED') return current;
    const options = this.#options;
    const runtime = createRuntime({
      tenant: options.tenant,
      policy: options.policy,
      authority: new AuthorityManager({
        tenant: options.tenant,
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      }),
      escalation: options.escalation,
      defaultProvenance: options.defaultProvenance,
      audit: options.audit,
      usage: options.usage,
      ...(options.revocations === undefined ? {} : { revocations: options.revocations }),
      lineage: this.lineage,
      ...(this.#first === undefined ? {} : { continuesSession: this.#first }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.escalationTimeoutMs === undefined
        ? {}
        : { escalationTimeoutMs: options.escalationTimeoutMs }),
      ...(options.auditArgs === undefined ? {} : { auditArgs: options.auditArgs }),
    });
    this.#current = runtime;
    this.#first ??= runtime.sessionId;
    const intent = this.#intent();
    try {
      await runtime.setIntent(
        { allowed_actions: [...intent.actions], forbidden_actions: [], scope: intent.scope },
        { provenance: 'SYSTEM_TRUSTED' },
      );
    } catch (error) {
      // A session without its intent must not linger: ended, it refuses (or is replaced) like any other.
      await runtime.terminate('the gateway could not set the session intent').catch(() => undefined);
      throw error;
    }
    return runtime;
  }

  /** Ends the session in force, if any. */
  async close(reason: string): Promise<void> {
    const current = this.#current;
    if (current !== undefined && current.state !== 'TERMINATED') await current.terminate(reason);
  }
}
