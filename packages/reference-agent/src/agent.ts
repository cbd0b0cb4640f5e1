import {
  type AgentRuntime,
  ApeError,
  ArgumentsError,
  type Intent,
  type Labeled,
  messageOf,
  type ProvenanceLabel,
} from '@ape/core';
import { isLabeled, labelOf, map, sourcesOf, unwrap } from '@ape/provenance';
import {
  type AgentPlan,
  type AgentStep,
  type AgentTask,
  checkAgentPlan,
  type OutputReference,
  type Planner,
  toRuntimePlan,
} from './planner.js';
import type { ToolRegistry } from './tool-registry.js';
import { WORKSPACE_ROOT } from './workspace.js';

/** Error codes that mean "APE refused", as opposed to a tool or the agent failing. */
const REFUSAL_CODES: ReadonlySet<string> = new Set([
  'POLICY_DENY',
  'PLAN_INVALID',
  'ESCALATION_DENIED',
  'ESCALATION_REQUIRED',
  'UNAUTHORIZED_ACTION',
  'AUTHORITY_EXPIRED',
  'TENANT_MISMATCH',
  'PROVENANCE',
]);

/** Why APE refused something, or why something failed: taken from the typed error. */
export interface AgentError {
  /** The stable `ApeError` code (`POLICY_DENY`, `ESCALATION_DENIED`, ...), or `INTERNAL` for a non-APE error. */
  readonly code: string;
  readonly message: string;
  /** The policy rule ids behind a denial, when the error names them. */
  readonly rules: readonly string[];
  /** The policy's or the approver's reason, when the error gives one. */
  readonly reason?: string;
}

/** What happened to one step. */
export interface StepRecord {
  readonly index: number;
  readonly action: string;
  /** The arguments the tool was (or would have been) called with, as plain JSON. */
  readonly args: Readonly<Record<string, unknown>>;
  /** The effective label of the arguments, as the policy saw it. */
  readonly provenance: ProvenanceLabel;
  /** Where the labelled parts of the arguments came from (URLs, `tool:<action>`). */
  readonly sources: readonly string[];
  /** `executed`: the tool ran; `refused`: APE stopped it; `failed`: the tool or the agent failed. */
  readonly outcome: 'executed' | 'refused' | 'failed';
  /** The tool's output, labelled, when it ran. */
  readonly output?: Labeled;
  readonly error?: AgentError;
}

/** The result of {@link ReferenceAgent.run}. */
export interface AgentRunResult {
  readonly task: string;
  /** `plan`: `createReferenceAgent` ran a plan; `calls`: `createReferenceCallsAgent` ran one call at a time. */
  readonly mode: 'plan' | 'calls';
  /**
   * `completed`: every step ran. `refused`: APE refused the intent, the plan or a step (see
   * `error` or the last step). `failed`: the planner, a binding or a tool failed. In calls mode a
   * refused or failed call does not stop the run; the status is then that of the first call that
   * did not run.
   */
  readonly status: 'completed' | 'refused' | 'failed';
  readonly intent?: Intent;
  /** The plan; in calls mode, the calls the planner proposed, in order. */
  readonly plan?: AgentPlan;
  /** Set when the run stopped before any step (planner, intent or plan refused or invalid). */
  readonly error?: AgentError;
  readonly steps: readonly StepRecord[];
}

/** Options of {@link createReferenceAgent}. */
export interface ReferenceAgentOptions {
  /** The APE runtime of this agent session (one runtime per session, one session per `run`). */
  readonly runtime: AgentRuntime;
  /** The tools the plan may use. */
  readonly tools: ToolRegistry;
  /** Turns the task into an intent and a plan. */
  readonly planner: Planner;
  /** Called after each step, for live transcripts. */
  readonly onStep?: (record: StepRecord) => void;
  /** Terminate the runtime when the run ends (default `true`), which revokes any outstanding token. */
  readonly terminateWhenDone?: boolean;
}

/** A reference agent: plans a task, then runs the plan through the APE gate step by step. */
export interface ReferenceAgent {
  /**
   * Runs one task in the agent's session. Never throws for a refusal or a tool failure: those are
   * reported in the result. A session runs one task; create a new runtime and agent for the next.
   */
  run(task: AgentTask | string): Promise<AgentRunResult>;
}

/**
 * Creates the reference agent. The loop is the model to copy:
 *
 * 1. the planner turns the task into an intent and a plan (nothing it says is trusted);
 * 2. the intent and the plan go to the runtime, labelled with the task's provenance;
 * 3. each step's arguments are built (earlier outputs stay labelled, so their label flows in) and
 *    the step goes through `runtime.executeStep`, the only door to a tool;
 * 4. the first refusal or failure stops the run: later steps may depend on the one that did not
 *    run, and the runtime would not let them skip it anyway.
 */
export function createReferenceAgent(options: ReferenceAgentOptions): ReferenceAgent {
  const { runtime, tools, planner } = options;
  const terminateWhenDone = options.terminateWhenDone ?? true;
  const toolIds = new Set(tools.ids);

  return Object.freeze({
    async run(input: AgentTask | string): Promise<AgentRunResult> {
      const task: AgentTask = typeof input === 'string' ? { text: input } : input;
      // The plain text the planner wrote (paths, addresses, constants) is as trusted as the task.
      const label: ProvenanceLabel = task.provenance ?? 'USER_TRUSTED';
      const steps: StepRecord[] = [];
      let intent: Intent | undefined;
      let plan: AgentPlan | undefined;
      const finish = (status: AgentRunResult['status'], error?: AgentError): AgentRunResult =>
        Object.freeze({
          task: task.text,
          mode: 'plan',
          status,
          ...(intent === undefined ? {} : { intent }),
          ...(plan === undefined ? {} : { plan }),
          ...(error === undefined ? {} : { error }),
          steps: Object.freeze([...steps]),
        });

      try {
        try {
          const planned = await planner.plan(task, {
            tools: tools.describe(),
            workspaceRoot: WORKSPACE_ROOT,
          });
          intent = planned.intent;
          plan = planned.plan;
          checkAgentPlan(plan, toolIds);
          await runtime.setIntent(intent, { provenance: label });
          await runtime.submitPlan(toRuntimePlan(plan), { provenance: label });
        } catch (error) {
          const described = describeError(error);
          return finish(isRefusal(described) ? 'refused' : 'failed', described);
        }

        const outputs: Labeled[] = [];
        for (const [index, step] of plan.steps.entries()) {
          const record = await runRecorded(step, index, outputs, label, (options) =>
            runtime.executeStep(index, tools.get(step.action_id).tool, options),
          );
          steps.push(record);
          options.onStep?.(record);
          if (record.outcome !== 'executed')
            return finish(record.outcome === 'refused' ? 'refused' : 'failed');
          outputs.push(record.output!);
        }
        return finish('completed');
      } finally {
        if (terminateWhenDone) await runtime.terminate('the agent finished its task');
      }
    },
  });
}

/**
 * Runs one step or call of an agent and records it: its arguments bound from earlier outputs,
 * `invoke` (the runtime's `executeStep` or `call`) run with them, the outcome (`executed`,
 * `refused` for a typed APE refusal, `failed` otherwise) and the arguments' label and sources.
 *
 * @internal
 */
export async function runRecorded(
  step: AgentStep,
  index: number,
  outputs: readonly (Labeled | undefined)[],
  label: ProvenanceLabel,
  invoke: (options: { args: Record<string, unknown>; provenance: ProvenanceLabel }) => Promise<Labeled>,
): Promise<StepRecord> {
  let args: Record<string, unknown> = { ...step.args };
  const base = { index, action: step.action_id };
  try {
    args = bindArguments(step, index, outputs);
    const output = await invoke({ args, provenance: label });
    return { ...base, ...describeArgs(args, label), outcome: 'executed', output };
  } catch (error) {
    const described = describeError(error);
    return {
      ...base,
      ...describeArgs(args, label),
      outcome: isRefusal(described) ? 'refused' : 'failed',
      error: described,
    };
  }
}

/**
 * The plain arguments, and their label and sources exactly as the runtime computes them. Arguments
 * the runtime could not read either (nested too deep) are reported as empty and untrusted.
 *
 * @internal
 */
export function describeArgs(
  args: Readonly<Record<string, unknown>>,
  label: ProvenanceLabel,
): Pick<StepRecord, 'args' | 'provenance' | 'sources'> {
  try {
    return { args: unwrap(args), provenance: labelOf(args, label), sources: sourcesOf(args) };
  } catch {
    return { args: {}, provenance: 'EXTERNAL_UNTRUSTED', sources: [] };
  }
}

/**
 * Builds a step's arguments: its literal `args`, plus each input taken from an earlier output. The
 * value is derived with `map` from `@ape/provenance`, so it keeps the output's label and sources:
 * text a web page supplied is still `EXTERNAL_UNTRUSTED` when it becomes a file path or a recipient.
 *
 * @throws ArgumentsError (`ARGS_INVALID`, `details.step`) when a reference finds nothing.
 */
export function bindArguments(
  step: AgentStep,
  index: number,
  outputs: readonly (Labeled | undefined)[],
): Record<string, unknown> {
  const args: Record<string, unknown> = { ...step.args };
  for (const [name, reference] of Object.entries<OutputReference>(step.inputs ?? {})) {
    const output = outputs[reference.step];
    if (output === undefined || !isLabeled(output)) {
      throw new ArgumentsError(
        `Step ${index}: input "${name}" refers to step ${reference.step}, which has no output.`,
        {
          step: index,
          field: name,
        },
      );
    }
    const value = map(output, (plain) => extract(plain, reference));
    if (value.value === undefined) {
      throw new ArgumentsError(
        `Step ${index}: input "${name}" found nothing in the output of step ${reference.step}${reference.field === undefined ? '' : ` at "${reference.field}"`}.`,
        { step: index, field: name },
      );
    }
    Object.defineProperty(args, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return args;
}

function extract(value: unknown, reference: OutputReference): unknown {
  let current = value;
  for (const key of reference.field?.split('.') ?? []) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  if (reference.match === undefined) return current;
  if (typeof current !== 'string') return undefined;
  return new RegExp(reference.match, 'm').exec(current)?.[1];
}

/** @internal The code, message, rule ids and reason of an error, for a record. */
export function describeError(error: unknown): AgentError {
  if (ApeError.isInstance(error)) {
    const rules = error.details['rules'];
    const reason = error.details['reason'];
    return {
      code: error.code,
      message: error.message,
      rules: Array.isArray(rules) ? rules.filter((rule): rule is string => typeof rule === 'string') : [],
      ...(typeof reason === 'string' ? { reason } : {}),
    };
  }
  return { code: 'INTERNAL', message: messageOf(error), rules: [] };
}

/**
 * @internal Whether an error means APE refused. A plan error without rule ids comes from the
 * planner's own output, not from the policy.
 */
export function isRefusal(error: AgentError): boolean {
  if (error.code === 'PLAN_INVALID') return error.rules.length > 0;
  return REFUSAL_CODES.has(error.code);
}
