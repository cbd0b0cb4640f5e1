import type { Intent } from '../intent.js';
import type { AuditSink } from '../ports/audit-sink.js';
import type { EscalationHandler } from '../ports/escalation-handler.js';
import type { UsageStore } from '../ports/usage-store.js';
import { createRuntime } from '../runtime/runtime.js';
import type { AgentRuntime } from '../runtime/runtime-api.js';
import type { ProvenanceLabel } from '../types.js';
import { labellingSink } from './audit-labels.js';
import type { ResolvedAdapterOptions } from './options.js';

/** What {@link startAdapterSession} needs to open one conversation's session. */
export interface AdapterSessionParameters {
  readonly options: ResolvedAdapterOptions;
  /** The adapter's usage store and audit sink (the given ones or the adapter's in-memory defaults). */
  readonly usage: UsageStore;
  readonly audit: AuditSink;
  /** The conversation's lineage (thread id, or a user id). */
  readonly lineage: string;
  /**
   * The id every session of the conversation counts session-scoped limits under (for example
   * `conversation:<lineage>`), so no new session resets a budget.
   */
  readonly continuesSession: string;
  /** The output label of a tool by action id, written to `tool.executed` as `outputLabel`. */
  readonly outputLabelOf: (action: string) => ProvenanceLabel;
  /** The adapter's escalation handler (the human's recorded answer, or the fallback). */
  readonly escalation: EscalationHandler;
  /** The session's intent, set with `SYSTEM_TRUSTED` provenance. */
  readonly intent: Intent;
}

/**
 * Opens a calls-mode session for one conversation: a runtime with the adapter's options, usage
 * store, labelling audit sink and escalation handler, with `intent` set. When the intent cannot be
 * set the runtime is terminated and the error rethrown.
 * @throws whatever `createRuntime` or `setIntent` throws (`CONFIG_INVALID`, `INTENT_INVALID`, ...).
 */
export async function startAdapterSession(parameters: AdapterSessionParameters): Promise<AgentRuntime> {
  const options = parameters.options;
  const runtime = createRuntime({
    tenant: options.tenant,
    policy: options.policy,
    authority: options.authority,
    usage: parameters.usage,
    lineage: parameters.lineage,
    continuesSession: parameters.continuesSession,
    audit: labellingSink(parameters.audit, parameters.outputLabelOf),
    escalation: parameters.escalation,
    defaultProvenance: options.userProvenance,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.mode === undefined ? {} : { mode: options.mode }),
    ...(options.escalationTimeoutMs === undefined
      ? {}
      : { escalationTimeoutMs: options.escalationTimeoutMs }),
    ...(options.auditArgs === undefined ? {} : { auditArgs: options.auditArgs }),
  });
  try {
    await runtime.setIntent(parameters.intent, { provenance: 'SYSTEM_TRUSTED' });
  } catch (error) {
    await runtime.terminate('the intent could not be set').catch(() => undefined);
    throw error;
  }
  return runtime;
}

/**
 * The intent of a conversation: the host's `given` intent where it says something, else every
 * wrapped tool (`toolNames`) allowed, nothing forbidden, and `defaultScope` as the scope.
 */
export function adapterIntent(
  given: Partial<Intent> | undefined,
  toolNames: Iterable<string>,
  defaultScope: string,
): Intent {
  return {
    allowed_actions: [...(given?.allowed_actions ?? toolNames)],
    forbidden_actions: [...(given?.forbidden_actions ?? [])],
    ...(given?.escalation_required === undefined
      ? {}
      : { escalation_required: [...given.escalation_required] }),
    scope: given?.scope ?? defaultScope,
    ...(given?.description === undefined ? {} : { description: given.description }),
  };
}

/**
 * A queue that runs tasks one at a time in the order given: a conversation's calls reach the gate
 * one by one. A failed task does not stop the ones after it.
 */
export interface SerialQueue {
  /**
   * Runs `task` after every task enqueued before it has settled (at once when none is waiting);
   * resolves or rejects as `task` does, also when `task` throws instead of returning a promise.
   */
  enqueue<T>(task: () => Promise<T>): Promise<T>;
}

/** Creates an empty {@link SerialQueue}. */
export function createSerialQueue(): SerialQueue {
  // Settles once every task enqueued so far has settled; `undefined` while the queue is idle, so a
  // call on an idle conversation starts without waiting a turn (one promise fewer per call).
  let tail: Promise<unknown> | undefined;
  let unsettled = 0;
  const settle = (): void => {
    unsettled -= 1;
    if (unsettled === 0) tail = undefined;
  };
  return {
    enqueue<T>(task: () => Promise<T>): Promise<T> {
      const next = tail === undefined ? start(task) : tail.then(task, task);
      unsettled += 1;
      tail = next.then(settle, settle);
      return next;
    },
  };
}

function start<T>(task: () => Promise<T>): Promise<T> {
  try {
    return task();
  } catch (error) {
    return Promise.reject(error);
  }
}
