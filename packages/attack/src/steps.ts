import {
  type AgentRuntime,
  ConfigurationError,
  defineTool,
  type StepCallOptions,
  type ToolLike,
} from '@ape/core';
import type { AttackContext, AttackStep, ScenarioIdentity, SpyTool, StepsScenario } from './types.js';

/** The scope of every intent a steps scenario sets. */
const SCOPE = 'attack scenario';

/** The calls-mode entry point of a runtime (`runtime.call(action, tool, { args, provenance })`). */
type CallStep = (action: string, tool: ToolLike<unknown>, options: StepCallOptions) => Promise<unknown>;

/** @internal The intent a steps scenario sets: `intent` (default: its steps' actions) and `forbidden`. */
export function intentOfScenario(scenario: StepsScenario): Record<string, unknown> {
  const allowed = scenario.intent ?? [...new Set(scenario.steps.map((step) => step.action))];
  return { allowed_actions: [...allowed], forbidden_actions: [...(scenario.forbidden ?? [])], scope: SCOPE };
}

/**
 * @internal The plan a `plan`-mode steps scenario submits: its own, or one step per entry of
 * `steps`, with the arguments of `fixedArgs` steps.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) for a `fixedArgs` step whose arguments are made
 * from earlier outputs (they are not known when the plan is submitted).
 */
export function planOfScenario(scenario: StepsScenario): unknown {
  if (scenario.plan !== undefined) return scenario.plan;
  return {
    steps: scenario.steps.map((step, position) => {
      if (step.fixedArgs !== true) return { action_id: step.action };
      if (typeof step.args === 'function') {
        throw new ConfigurationError(
          `Scenario ${scenario.id}, step ${position}: fixedArgs needs arguments given as a value, not made from earlier outputs.`,
          { scenario: scenario.id, step: position, field: 'fixedArgs' },
        );
      }
      return { action_id: step.action, args: step.args };
    }),
  };
}

/**
 * @internal The calls-mode entry point of `runtime`.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when the runtime has no `call` method.
 */
export function callsOf(runtime: AgentRuntime, scenario: ScenarioIdentity): CallStep {
  const call = (runtime as Partial<{ call: CallStep }>).call;
  if (typeof call !== 'function') {
    throw new ConfigurationError(
      `Scenario ${scenario.id} runs in calls mode, but this @ape/core runtime has no call() method: update @ape/core, or give the scenario mode 'plan'.`,
      { scenario: scenario.id, field: 'mode' },
    );
  }
  return call.bind(runtime);
}

/** The tool the host hands the runtime for `step`: its spy (one per role and action), plain or defined. */
function toolOf(step: AttackStep, context: AttackContext, spies: Map<string, SpyTool>): ToolLike<unknown> {
  const key = `${step.role}:${step.action}`;
  let spy = spies.get(key);
  if (spy === undefined) {
    spy = step.role === 'harmful' ? context.harmful(step.action) : context.harmless(step.action);
    spies.set(key, spy);
  }
  return step.definedTool === true ? defineTool({ id: step.action, run: spy.tool }) : spy.tool;
}

/**
 * @internal Runs a steps scenario: one session, its intent, in `plan` mode its plan, then every
 * step in order, each step's arguments made from the outputs before it. The first refusal throws
 * out of here (creating the session may be that refusal); the runner judges what ran.
 */
export async function runSteps(scenario: StepsScenario, context: AttackContext): Promise<undefined> {
  const { runtime } = context.session(scenario.session?.(context));
  const call = scenario.mode === 'calls' ? callsOf(runtime, scenario) : undefined;
  await runtime.setIntent(intentOfScenario(scenario), {
    provenance: scenario.intentProvenance ?? 'USER_TRUSTED',
  });
  if (call === undefined) {
    await runtime.submitPlan(planOfScenario(scenario), {
      provenance: scenario.planProvenance ?? 'USER_TRUSTED',
    });
  }
  const spies = new Map<string, SpyTool>();
  const outputs: unknown[] = [];
  for (const [position, step] of scenario.steps.entries()) {
    const args = typeof step.args === 'function' ? step.args(outputs) : step.args;
    const options: StepCallOptions =
      step.provenance === undefined ? { args } : { args, provenance: step.provenance };
    const tool = toolOf(step, context, spies);
    outputs.push(
      call === undefined
        ? await runtime.executeStep(step.index ?? position, tool, options)
        : await call(step.action, tool, options),
    );
  }
  return undefined;
}
