import { type Intent, type Labeled, PlanError, type PlanStep, type ProvenanceLabel } from '@ape/core';
import type { ToolDescription } from './tool-registry.js';

/** What the user asked the agent to do. */
export interface AgentTask {
  /** The request, in words. */
  readonly text: string;
  /**
   * How far the request can be trusted (default `USER_TRUSTED`: the user typed it). It is the label
   * of the intent, of the plan and of every plain argument the planner wrote. A task that came from
   * data (an e-mail, a web page) must say `EXTERNAL_UNTRUSTED`: the runtime then refuses its intent.
   */
  readonly provenance?: ProvenanceLabel;
}

/** What a planner may look at besides the task. */
export interface PlanningContext {
  /** The tools the agent can call: id, description and argument schema. */
  readonly tools: readonly ToolDescription[];
  /** The virtual root of the workspace the filesystem tools see (`/workspace`). */
  readonly workspaceRoot: string;
}

/**
 * A pointer to (part of) the output of an earlier step. At run time the agent replaces it with the
 * referenced value *still labelled*: the label of the earlier output flows into the later call, so
 * the policy decides on it.
 */
export interface OutputReference {
  /** The index of an earlier step of the same plan. */
  readonly step: number;
  /** A dotted path into that step's output (`content`, `text`, `entries.0`); the whole output when absent. */
  readonly field?: string;
  /**
   * A regular expression (at most {@link MAX_MATCH_PATTERN_LENGTH} characters) with one capture
   * group, applied to the field's text; the first match's group is the value. This is how the
   * rule-based planner "reads" text; a language-model planner would not need it.
   */
  readonly match?: string;
}

/** The longest `match` pattern a plan may carry. */
export const MAX_MATCH_PATTERN_LENGTH = 200;

/** One step as a planner writes it. */
export interface AgentStep {
  /** The action, which is also the id of the tool that performs it. */
  readonly action_id: string;
  readonly description?: string;
  /**
   * Arguments known at planning time. When the step has no `inputs`, they are fixed in the approved
   * plan: the runtime refuses the step with any other arguments.
   */
  readonly args?: Readonly<Record<string, unknown>>;
  /** Arguments bound at run time from earlier outputs, by argument name. */
  readonly inputs?: Readonly<Record<string, OutputReference>>;
}

/** A plan as a planner writes it: steps run in order. */
export interface AgentPlan {
  readonly steps: readonly AgentStep[];
}

/** What a planner returns: the intent to request for the session, and the plan. */
export interface PlannerResult {
  readonly intent: Intent;
  readonly plan: AgentPlan;
}

/**
 * Turns a task into an intent and a plan. The reference agent ships {@link RuleBasedPlanner}; a
 * host plugs a language model by implementing this interface (see docs/reference-agent.md). Nothing
 * a planner returns is trusted by APE: the intent and plan are validated by the runtime and checked
 * against the policy, and every call is checked again at the gate.
 */
export interface Planner {
  plan(task: AgentTask, context: PlanningContext): PlannerResult | Promise<PlannerResult>;
}

/**
 * What a {@link CallPlanner} sees of the run so far: one entry per call it proposed, in order, with
 * what happened to it. `output` is the labelled output of a call that ran; a refused or failed call
 * has an `error` instead.
 */
export interface CallHistoryEntry {
  /** The call's position in the run (what an {@link OutputReference}'s `step` points to). */
  readonly index: number;
  readonly action: string;
  readonly outcome: 'executed' | 'refused' | 'failed';
  readonly output?: Labeled;
  readonly error?: { readonly code: string; readonly message: string; readonly rules: readonly string[] };
}

/**
 * Proposes one call at a time (calls mode), as a model in a tool-calling loop does. The reference
 * agent asks it for the session's intent once, then for the next call after each call, showing it
 * what happened so far, until it answers `undefined`. A refused call does not end the run: the
 * planner sees the refusal and proposes what comes next. Nothing it proposes is trusted: each call
 * is checked by the agent ({@link checkAgentStep}) and decided at the runtime's gate.
 */
export interface CallPlanner {
  /** The intent to request for the session, before any call. */
  intent(task: AgentTask, context: PlanningContext): Intent | Promise<Intent>;
  /**
   * The next call, or `undefined` when the task is done. `inputs` refer to earlier calls by their
   * position in `history`.
   */
  next(
    task: AgentTask,
    context: PlanningContext,
    history: readonly CallHistoryEntry[],
  ): AgentStep | undefined | Promise<AgentStep | undefined>;
}

const FIELD_PATTERN = /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/;

function badStep(index: number, message: string, field: string): PlanError {
  return new PlanError(`Planner output, step ${index}: ${message}.`, { step: index, field });
}

/**
 * Checks the parts of a planner's plan that the runtime does not know about: every step's action is
 * a registered tool, and every {@link OutputReference} points to an earlier step with a well-formed
 * field path and a bounded pattern that compiles. The runtime validates the rest (schema, intent,
 * policy) when the plan is submitted.
 *
 * @throws PlanError (`PLAN_INVALID`, `details.step`) naming the first bad step.
 */
export function checkAgentPlan(plan: AgentPlan, toolIds: ReadonlySet<string>): void {
  if (typeof plan !== 'object' || plan === null || !Array.isArray(plan.steps) || plan.steps.length === 0) {
    throw new PlanError('Planner output: the plan must have at least one step.', { field: 'steps' });
  }
  plan.steps.forEach((step, index) => {
    checkAgentStep(step, index, toolIds);
  });
}

/**
 * Checks one step (or one proposed call) at position `index`: its action is a registered tool and
 * every {@link OutputReference} points to an earlier position with a well-formed field path and a
 * bounded pattern that compiles. {@link checkAgentPlan} runs it on every step of a plan; the
 * calls-mode agent runs it on each call its planner proposes, with the call's position in the run.
 *
 * @throws PlanError (`PLAN_INVALID`, `details.step`, `details.field`) naming what is wrong.
 */
export function checkAgentStep(step: AgentStep, index: number, toolIds: ReadonlySet<string>): void {
  if (typeof step !== 'object' || step === null) {
    throw badStep(index, 'the step must be an object', 'step');
  }
  if (!toolIds.has(step.action_id)) {
    throw badStep(index, `no tool performs "${String(step.action_id)}"`, 'action_id');
  }
  for (const [name, reference] of Object.entries<OutputReference>(step.inputs ?? {})) {
    const field = `inputs.${name}`;
    if (!Number.isSafeInteger(reference.step) || reference.step < 0 || reference.step >= index) {
      throw badStep(
        index,
        `input "${name}" must refer to an earlier step, not ${String(reference.step)}`,
        field,
      );
    }
    if (reference.field !== undefined && !FIELD_PATTERN.test(reference.field)) {
      throw badStep(index, `input "${name}" has a malformed field path`, field);
    }
    if (reference.match !== undefined) {
      if (typeof reference.match !== 'string' || reference.match.length > MAX_MATCH_PATTERN_LENGTH) {
        throw badStep(index, `input "${name}" has a pattern longer than ${MAX_MATCH_PATTERN_LENGTH}`, field);
      }
      try {
        new RegExp(reference.match, 'm');
      } catch {
        throw badStep(index, `input "${name}" has a pattern that does not compile`, field);
      }
    }
  }
}

/**
 * The plan handed to the runtime: each step's action, description and, for steps without run-time
 * inputs, its fixed arguments. A step with inputs is approved on the action alone and its real
 * arguments are decided at the gate.
 */
export function toRuntimePlan(plan: AgentPlan): { steps: PlanStep[] } {
  return {
    steps: plan.steps.map((step) => ({
      action_id: step.action_id,
      ...(step.description === undefined ? {} : { description: step.description }),
      ...(step.args !== undefined && step.inputs === undefined ? { args: { ...step.args } } : {}),
    })),
  };
}
