import { type AgentRuntime, type Intent, type Labeled, PlanError, type ProvenanceLabel } from '@ape/core';
import {
  type AgentError,
  type AgentRunResult,
  describeError,
  isRefusal,
  type ReferenceAgent,
  runRecorded,
  type StepRecord,
} from './agent.js';
import { type AgentStep, type AgentTask, type CallPlanner, checkAgentStep } from './planner.js';
import type { ToolRegistry } from './tool-registry.js';
import { WORKSPACE_ROOT } from './workspace.js';

/** The most calls one run proposes unless {@link ReferenceCallsAgentOptions.maxCalls} says otherwise. */
export const DEFAULT_MAX_CALLS = 50;

/** Options of {@link createReferenceCallsAgent}. */
export interface ReferenceCallsAgentOptions {
  /** The APE runtime of this agent session (one runtime per session, one session per `run`). */
  readonly runtime: AgentRuntime;
  /** The tools the calls may use. */
  readonly tools: ToolRegistry;
  /** Requests the intent, then proposes one call at a time. */
  readonly planner: CallPlanner;
  /** Called after each call, for live transcripts. */
  readonly onStep?: (record: StepRecord) => void;
  /** Terminate the runtime when the run ends (default `true`), which revokes any outstanding token. */
  readonly terminateWhenDone?: boolean;
  /**
   * The most calls the planner may propose in one run (default {@link DEFAULT_MAX_CALLS}): a
   * planner that never says it is done ends the run as `failed` (`PLAN_INVALID`,
   * `details.field: 'maxCalls'`) instead of looping.
   */
  readonly maxCalls?: number;
}

/**
 * Creates the reference agent in calls mode, the loop of every tool-calling model. `run(task)`:
 *
 * 1. asks the planner for the session's intent and sets it with the task's provenance;
 * 2. asks the planner for the next call, showing it every earlier call and what happened to it;
 * 3. checks the call's own parts ({@link checkAgentStep}), builds its arguments (earlier outputs stay
 *    labelled) and sends it through `runtime.call`, the only door to a tool, which appends it to the
 *    session's chain and decides it with the arguments' own provenance;
 * 4. goes on after a refused or failed call (a DENY does not end a calls-mode session: the planner
 *    sees it and proposes what comes next), and stops when the planner is done, when the session
 *    ends (a denied escalation terminates it) or after `maxCalls` calls.
 *
 * The budgets and ordering rules of the policy (`limits`, `tool_transitions`) are counted by the
 * runtime's usage store, so they bind every call the planner proposes, whatever it proposes.
 */
export function createReferenceCallsAgent(options: ReferenceCallsAgentOptions): ReferenceAgent {
  const { runtime, tools, planner } = options;
  const terminateWhenDone = options.terminateWhenDone ?? true;
  const maxCalls = options.maxCalls ?? DEFAULT_MAX_CALLS;
  if (!Number.isSafeInteger(maxCalls) || maxCalls < 1) {
    throw new PlanError(`maxCalls must be a positive whole number, not ${String(maxCalls)}.`, {
      field: 'maxCalls',
    });
  }
  const toolIds = new Set(tools.ids);

  return Object.freeze({
    async run(input: AgentTask | string): Promise<AgentRunResult> {
      const task: AgentTask = typeof input === 'string' ? { text: input } : input;
      // The plain text the planner wrote (paths, addresses, constants) is as trusted as the task.
      const label: ProvenanceLabel = task.provenance ?? 'USER_TRUSTED';
      const context = { tools: tools.describe(), workspaceRoot: WORKSPACE_ROOT };
      const steps: StepRecord[] = [];
      const proposed: AgentStep[] = [];
      const outputs: (Labeled | undefined)[] = [];
      let intent: Intent | undefined;
      const finish = (error?: AgentError): AgentRunResult => {
        const stopped = steps.find((step) => step.outcome !== 'executed');
        const status: AgentRunResult['status'] =
          error !== undefined
            ? isRefusal(error)
              ? 'refused'
              : 'failed'
            : stopped === undefined
              ? 'completed'
              : stopped.outcome === 'refused'
                ? 'refused'
                : 'failed';
        return Object.freeze({
          task: task.text,
          mode: 'calls',
          status,
          ...(intent === undefined ? {} : { intent }),
          ...(proposed.length === 0 ? {} : { plan: Object.freeze({ steps: Object.freeze([...proposed]) }) }),
          ...(error === undefined ? {} : { error }),
          steps: Object.freeze([...steps]),
        });
      };

      try {
        try {
          intent = await planner.intent(task, context);
          await runtime.setIntent(intent, { provenance: label });
        } catch (error) {
          return finish(describeError(error));
        }

        while (runtime.state !== 'TERMINATED') {
          let call: AgentStep | undefined;
          try {
            call = await planner.next(task, context, steps);
            if (call === undefined) break;
            if (steps.length >= maxCalls) {
              throw new PlanError(
                `The planner proposed more than ${maxCalls} calls; the run stops. Raise maxCalls if the task needs more.`,
                { field: 'maxCalls', step: steps.length },
              );
            }
            checkAgentStep(call, steps.length, toolIds);
          } catch (error) {
            return finish(describeError(error));
          }
          proposed.push(call);
          const record = await runRecorded(call, steps.length, outputs, label, (options) =>
            runtime.call(call.action_id, tools.get(call.action_id).tool, options),
          );
          steps.push(record);
          outputs.push(record.output);
          options.onStep?.(record);
        }
        return finish();
      } finally {
        if (terminateWhenDone) await runtime.terminate('the agent finished its task');
      }
    },
  });
}
