import {
  type AgentRuntime,
  type AuditSink,
  type Authority,
  createRuntime,
  defineTool,
  hashCanonical,
  type PolicyEvaluator,
  type RuntimeConfig,
  type Tool,
  type TokenBinding,
} from '@ape/core';

/** The tenant every benchmark session belongs to. */
export const TENANT = 'bench';

/** The action, arguments and no-op tool of every gated step. */
export const STEP_ACTION = 'read_file';
export const STEP_ARGS = Object.freeze({ path: '/workspace/notes.txt' });
export const STEP_OPTIONS = Object.freeze({ args: STEP_ARGS, provenance: 'USER_TRUSTED' as const });

/**
 * The binding of a token for step 0 of a benchmark session (fixed intent and plan hashes): what the
 * token micro-benchmarks issue and consume.
 */
export const STEP_BINDING: TokenBinding = Object.freeze({
  tenant: TENANT,
  session: 'session',
  intentVersion: 'a'.repeat(64),
  planHash: 'b'.repeat(64),
  stepIndex: 0,
  action: STEP_ACTION,
  argsHash: hashCanonical(STEP_ARGS),
});

/** A tool that does nothing, so a step measures APE alone. */
export const noopTool: Tool<null> = defineTool({
  id: STEP_ACTION,
  outputLabel: 'SYSTEM_TRUSTED',
  run: () => null,
});

/** What a session needs besides its policy. */
export interface SessionParts {
  readonly policy: PolicyEvaluator;
  readonly authority: Authority;
  readonly audit?: AuditSink;
}

/**
 * A session ready to run `steps` gated steps: intent set, plan of `steps` identical `read_file`
 * steps (with fixed arguments) approved.
 */
export async function openSession(parts: SessionParts, steps: number): Promise<AgentRuntime> {
  return submitStepsPlan(await openCallsSession(parts), steps);
}

/**
 * A runtime made with `options` whose intent (USER_TRUSTED) allows exactly the benchmark's action;
 * no plan yet.
 */
export async function startSession(options: RuntimeConfig): Promise<AgentRuntime> {
  const runtime = createRuntime(options);
  await runtime.setIntent(
    { allowed_actions: [STEP_ACTION], forbidden_actions: [], scope: 'benchmark' },
    { provenance: 'USER_TRUSTED' },
  );
  return runtime;
}

/** Submits (USER_TRUSTED) a plan of `steps` identical `read_file` steps with fixed arguments. */
export async function submitStepsPlan(runtime: AgentRuntime, steps: number): Promise<AgentRuntime> {
  const step = { action_id: STEP_ACTION, args: STEP_ARGS };
  await runtime.submitPlan(
    { steps: Array.from({ length: steps }, () => step) },
    { provenance: 'USER_TRUSTED' },
  );
  return runtime;
}

/** Runs the session's next step with the no-op tool. */
export function runNextStep(runtime: AgentRuntime): Promise<unknown> {
  return runtime.executeStep(runtime.nextStepIndex, noopTool, STEP_OPTIONS);
}

/**
 * A calls-mode session ready to run gated calls: intent set, no plan. Each call is proposed with
 * `runtime.call`, so it is appended to the session's chain and decided on its own.
 */
export function openCallsSession(parts: SessionParts): Promise<AgentRuntime> {
  return startSession({
    tenant: TENANT,
    policy: parts.policy,
    authority: parts.authority,
    ...(parts.audit === undefined ? {} : { audit: parts.audit }),
  });
}

/** Proposes and runs one call of the session with the no-op tool. */
export function runNextCall(runtime: AgentRuntime): Promise<unknown> {
  return runtime.call(STEP_ACTION, noopTool, STEP_OPTIONS);
}
