import { messageOf, RuntimeStateError, UnauthorizedActionError } from '../errors.js';
import { labelOf } from '../labeled.js';
import type { EscalationHandler, EscalationRequest, EscalationResult } from '../ports/escalation-handler.js';
import type { AgentRuntime } from '../runtime/runtime-api.js';
import { createDenyAllEscalationHandler } from '../runtime/deny-all-escalation-handler.js';
import { defineTool, type Tool } from '../runtime/tool.js';
import type { Intent } from '../intent.js';
import type { ProvenanceLabel } from '../types.js';
import {
  answerOfRecorded,
  checkHumanAnswer,
  type HumanAnswer,
  hashOfInput,
  type PendingApprovalView,
  predictEscalation,
  rememberPending,
  sameInputHash,
} from './approvals.js';
import { denialText, refusalError, refusalOf } from './denial.js';
import type { TaintTracker } from './provenance.js';
import { adapterIntent, createSerialQueue, startAdapterSession } from './session.js';
import type {
  AdapterFramework,
  CallOutcome,
  ConversationParameters,
  PendingEscalation,
} from './conversation-api.js';

interface CurrentCall<TCall> {
  readonly id: string;
  /** Absent when the gate only decides a denied call again. */
  readonly call: TCall | undefined;
  threw: { readonly error: unknown } | undefined;
}

/**
 * @internal One conversation of a framework adapter: one APE session at a time in the lineage
 * `lineage` (a new one after an escalation denial ended the last), its calls one by one through
 * the gate, its taint, and the escalations it predicted and holds the human's answers for. The
 * framework's glue (wrapping its tools, reading its requests) stays in the adapter.
 */
export class AdapterConversation<TCall> {
  readonly lineage: string;
  readonly #parameters: ConversationParameters;
  readonly #framework: AdapterFramework<TCall>;
  readonly #taint: TaintTracker;
  readonly #gated = new Map<string, Tool>();
  readonly #pending = new Map<string, PendingEscalation>();
  readonly #fallback: EscalationHandler;
  readonly #handler: EscalationHandler;
  readonly #queue = createSerialQueue();
  #runtime: AgentRuntime | undefined;
  #starting: Promise<AgentRuntime> | undefined;
  #lastAction: string | undefined;
  #current: CurrentCall<TCall> | undefined;
  #ended = false;

  constructor(parameters: ConversationParameters, framework: AdapterFramework<TCall>) {
    this.lineage = parameters.lineage;
    this.#parameters = parameters;
    this.#framework = framework;
    this.#taint = parameters.taint;
    this.#fallback = parameters.context.options.escalation ?? createDenyAllEscalationHandler();
    this.#handler = { requestApproval: (request, signal) => this.#answer(request, signal) };
  }

  /** The id of the current APE session (`undefined` before the first call). */
  get sessionId(): string | undefined {
    return this.#runtime?.sessionId;
  }

  /** True once untrusted tool output entered the conversation. */
  get tainted(): boolean {
    return this.#taint.tainted;
  }

  /** True once {@link end} was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The action of the last call that ran (for the policy's transitions). */
  get lastAction(): string | undefined {
    return this.#lastAction;
  }

  /** The escalations waiting for an answer, oldest first, each with its call id under `idField`. */
  pendingApprovals<K extends string>(idField: K): readonly (PendingApprovalView & Record<K, string>)[] {
    return [...this.#pending.values()].map(
      (pending) =>
        Object.freeze({
          [idField]: pending.id,
          action: pending.action,
          args: pending.plain,
          provenance: pending.provenance,
          reason: pending.reason,
          rules: pending.rules,
          answered: pending.answer !== undefined,
        }) as unknown as PendingApprovalView & Record<K, string>,
    );
  }

  /**
   * Runs one proposed call in the conversation's queue: labels its arguments, opens the session if
   * needed, lets the framework admit it, and runs it through the gate. Any failure is a refusal
   * (or a throw with `onDeny: 'throw'`); a tool's own error is rethrown when the framework says so.
   */
  perform(id: string, name: string, call: TCall): Promise<CallOutcome> {
    return this.#queue.enqueue(async () => {
      const current: CurrentCall<TCall> = { id, call, threw: undefined };
      const framework = this.#framework;
      const options = this.#parameters.context.options;
      try {
        this.#taint.observe(framework.messagesOf(call));
        const { args, provenance } = this.#taint.label(
          options.provenance,
          framework.inputOf(call),
          options.userProvenance,
        );
        // An open session is used as it is: no turn of the event loop on the per-call path.
        const runtime = this.#open() ?? (await this.#session());
        framework.admit?.(call, runtime, args, provenance);
        this.#current = current;
        const result = await runtime.call(name, this.gatedTool(name), { args, provenance });
        this.#lastAction = name;
        const value = result.value;
        this.#taint.recordResult(id, name, result.label, framework.contentOf?.(value) ?? value);
        return { ran: true, value };
      } catch (error) {
        if (current.threw !== undefined && current.threw.error === error) {
          // The tool ran and failed: its error reaches the model, as untrusted as its output.
          this.#lastAction = name;
          this.#taint.recordResult(id, name, this.#parameters.tools.labelOf(name), messageOf(error));
          throw error;
        }
        if (framework.passesThrough?.(error) === true) throw error;
        return { ran: false, text: this.refuse(id, name, error) };
      } finally {
        this.#current = undefined;
        this.#pending.delete(id);
      }
    });
  }

  /**
   * The text a refused call returns to the model (recorded as trusted: the adapter wrote it).
   * @throws the APE error (or an `INTERNAL` error) with `onDeny: 'throw'`.
   */
  refuse(id: string, name: string, error: unknown): string {
    const text = denialText(refusalOf(name, error));
    this.#taint.recordResult(id, name, 'SYSTEM_TRUSTED', text);
    if (this.#parameters.context.options.onDeny === 'throw') throw refusalError(name, error, text);
    return text;
  }

  /**
   * The gate's tool of `name`, made once per output label: it runs the framework's tool of the call
   * in flight.
   */
  gatedTool(name: string): Tool {
    const outputLabel = this.#parameters.tools.labelOf(name);
    const known = this.#gated.get(name);
    if (known !== undefined && known.outputLabel === outputLabel) return known;
    const gated = defineTool({ id: name, outputLabel, run: (args) => this.#runCurrent(args) });
    this.#gated.set(name, gated);
    return gated;
  }

  /**
   * The adapter's pre-check for a framework that asks before it runs a call (`needsApproval`): true
   * when the gate will escalate the call `id`, which is then held for the human's answer. A call
   * already held is asked about again: only the exact escalated call qualifies. Only a prediction
   * (an escalation the gate makes that was not predicted goes to the fallback handler); any failure
   * predicts no escalation, which leaves the decision to the gate.
   */
  expectsEscalation(id: string, name: string, input: unknown, messages: unknown): boolean {
    const held = this.#pending.get(id);
    if (held !== undefined) return held.action === name && sameInputHash(held.argsHash, hashOfInput(input));
    const options = this.#parameters.context.options;
    if (options.mode !== undefined && options.mode !== 'enforce') return false;
    try {
      const intent = this.#intent();
      if (intent.forbidden_actions.includes(name) || !intent.allowed_actions.includes(name)) return false;
      this.#taint.observe(messages);
      const { args, provenance: declared } = this.#taint.label(
        options.provenance,
        input,
        options.userProvenance,
      );
      let provenance: ProvenanceLabel | undefined;
      const plain = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
      const decision = predictEscalation(options.policy, {
        tenant: options.tenant,
        action: name,
        args: plain,
        provenance: () => (provenance ??= labelOf(args, declared)),
        sessionId: this.#runtime?.sessionId ?? 'pending',
        previousAction: this.#lastAction,
        intent,
      });
      if (decision === undefined) return false;
      const argsHash = hashOfInput(plain);
      if (argsHash === undefined) return false;
      rememberPending(this.#pending, id, {
        id,
        action: name,
        argsHash,
        plain,
        args,
        declared,
        provenance: provenance ?? labelOf(args, declared),
        reason: decision.reason,
        rules: decision.rules,
        answer: undefined,
      });
      return true;
    } catch {
      return false;
    }
  }

  /** True while the escalation of call `id` is held for an answer. */
  holds(id: string): boolean {
    return this.#pending.has(id);
  }

  /**
   * The held escalation an answer names, checked against the framework's request (`id`, `name`,
   * `input` as the request shows them) before the answer is recorded.
   * @throws ConfigurationError (`CONFIG_INVALID`) for a malformed answer; UnauthorizedActionError
   *   (`UNAUTHORIZED_ACTION`) when no held escalation is that exact call, or it was answered.
   */
  matching(id: string | undefined, name: unknown, input: unknown, answer: HumanAnswer): PendingEscalation {
    checkHumanAnswer(answer);
    const wording = this.#framework.approvals;
    if (wording === undefined) {
      throw new RuntimeStateError(`The ${this.#framework.name} adapter holds no escalations to answer.`);
    }
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (pending === undefined) {
      throw new UnauthorizedActionError(
        `No APE escalation is waiting for tool call ${JSON.stringify(id ?? null)}: ${wording.answerOnly}`,
        { field: wording.idField },
      );
    }
    if (name !== pending.action) {
      throw new UnauthorizedActionError(
        `${wording.request} names "${String(name)}" but the escalated call is "${pending.action}"; it approves nothing.`,
        { field: wording.nameField },
      );
    }
    if (!sameInputHash(pending.argsHash, hashOfInput(input))) {
      throw new UnauthorizedActionError(
        `${wording.inputDiffers} from the escalated call's arguments (${pending.action}); it approves nothing.`,
        { field: wording.inputField },
      );
    }
    if (pending.answer !== undefined) {
      throw new UnauthorizedActionError(`Tool call ${pending.id} was already answered.`, {
        field: wording.idField,
        reason: 'answered',
      });
    }
    return pending;
  }

  /** Records a human's approval of a held escalation; the gate reads it when the call runs. */
  approve(pending: PendingEscalation, answer: HumanAnswer): void {
    pending.answer = { ...answer, approved: true };
  }

  /**
   * Records a human's denial of a held escalation and has the gate decide the call again, so the
   * denial (and its approver) is audited; it ends the session (the next call starts a new one).
   */
  async deny(pending: PendingEscalation, answer: HumanAnswer): Promise<void> {
    pending.answer = { ...answer, approved: false };
    await this.#queue.enqueue(async () => {
      try {
        const runtime = await this.#session();
        this.#current = { id: pending.id, call: undefined, threw: undefined };
        await runtime.authorizeCall(pending.action, { args: pending.args, provenance: pending.declared });
      } catch {
        // A denial is the expected outcome; any other refusal denies the call all the same.
      } finally {
        this.#current = undefined;
        this.#pending.delete(pending.id);
      }
    });
  }

  /** Ends the conversation for good: held escalations are forgotten and the session terminated. Idempotent. */
  async end(reason: string): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#pending.clear();
    await this.#queue.enqueue(async () => {
      const runtime = this.#runtime ?? (await this.#starting?.catch(() => undefined));
      if (runtime !== undefined) await runtime.terminate(reason);
    });
  }

  /** Ends the current session only; the next call starts a new one in the same lineage. */
  endSession(reason: string): Promise<void> {
    return this.#queue.enqueue(async () => {
      const runtime = this.#runtime;
      this.#runtime = undefined;
      if (runtime !== undefined) await runtime.terminate(reason);
    });
  }

  /** The current session when it is open (and the conversation not ended). */
  #open(): AgentRuntime | undefined {
    const runtime = this.#runtime;
    return this.#ended || runtime === undefined || runtime.state === 'TERMINATED' ? undefined : runtime;
  }

  /** The current session; a new one in the same lineage after an escalation denial ended the last. */
  #session(): Promise<AgentRuntime> {
    if (this.#ended) {
      return Promise.reject(
        new RuntimeStateError(`The conversation "${this.lineage}" was ended; start a new thread.`),
      );
    }
    const runtime = this.#runtime;
    if (runtime !== undefined && runtime.state !== 'TERMINATED') return Promise.resolve(runtime);
    this.#runtime = undefined;
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<AgentRuntime> {
    const { context, tools, continuesSession } = this.#parameters;
    const runtime = await startAdapterSession({
      options: context.options,
      usage: context.usage,
      audit: context.audit,
      lineage: this.lineage,
      continuesSession,
      outputLabelOf: (action) => tools.labelOf(action),
      escalation: this.#handler,
      intent: this.#intent(),
    });
    this.#runtime = runtime;
    return runtime;
  }

  #intent(): Intent {
    const { context, tools, scope } = this.#parameters;
    return adapterIntent(context.options.intent, tools.names(), scope);
  }

  /**
   * The gate's tool: runs the framework's tool of the call in flight, noting its own failure when
   * the framework rethrows tool errors. Not `async`: one promise fewer per call.
   */
  #runCurrent(args: Readonly<Record<string, unknown>>): Promise<unknown> {
    const current = this.#current;
    if (current?.call === undefined) {
      return Promise.reject(new RuntimeStateError(`No ${this.#framework.name} tool call is in flight.`));
    }
    const framework = this.#framework;
    let running: Promise<unknown>;
    try {
      running = framework.run(current.call, args);
    } catch (error) {
      running = Promise.reject(error);
    }
    if (!framework.rethrowToolErrors) return running;
    return running.then(undefined, (error: unknown) => {
      current.threw = { error };
      throw error;
    });
  }

  /** The runtime's escalation handler: the answer given for the call in flight, if it is this exact call. */
  #answer(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult> {
    const current = this.#current;
    if (current === undefined) return this.#fallback.requestApproval(request, signal);
    const own = current.call === undefined ? undefined : this.#framework.answer?.(current.call, request);
    if (own !== undefined) return own;
    const pending = this.#pending.get(current.id);
    if (pending === undefined) return this.#fallback.requestApproval(request, signal);
    this.#pending.delete(pending.id);
    return answerOfRecorded(
      this.#framework.approver,
      pending,
      request,
      this.#framework.approvals?.noAnswer ?? 'no answer.',
    );
  }
}
