import {
  type AgentRuntime,
  type AuthorityToken,
  type CallAuthorization,
  EscalationDeniedError,
  type Labeled,
  labelOf,
  PolicyDenyError,
  type PolicyDecision,
  type ProvenanceLabel,
  type RuntimeConfig,
  type StepCallOptions,
  type ToolLike,
  unwrapLabeled,
} from '@ape/core';
import { untrusted } from '@ape/provenance';

const NAIVE_TOKEN: AuthorityToken = Object.freeze({ fingerprint: 'naive', issuedAt: 0, expiresAt: 0 });

type Runnable = (args: Readonly<Record<string, unknown>>) => unknown;

function runnableOf(tool: ToolLike<unknown>): Runnable {
  if (typeof tool === 'function') return tool as Runnable;
  return (tool as { run: Runnable }).run;
}

/**
 * A weakened host for the "attacks are real" tests: it asks the policy about every call (with the
 * args' label) and runs the tool unless the answer is DENY or a human said no — and nothing else.
 * No state machine, no intent or plan check, no chain, no token, no audit, no usage store, one call
 * at a time not enforced, tool ids not checked, approvals trusted whatever their label, and every
 * failure of the policy or the approver treated as "go ahead". It is what many agent frameworks do,
 * and what the runtime's gate replaces: a runtime-layer scenario that it lets through is stopped by
 * the runtime, not by the policy or the scenario.
 */
export function createPolicyCheckOnlyHost(config: RuntimeConfig): AgentRuntime {
  let policy = config.policy;
  let steps: readonly { readonly action_id: string }[] = [];
  let calls = 0;
  const pending = new Map<number, string>();
  const defaultLabel: ProvenanceLabel = config.defaultProvenance ?? 'EXTERNAL_UNTRUSTED';

  async function run<Output>(
    index: number,
    action: string,
    tool: ToolLike<Output>,
    options: StepCallOptions = {},
  ): Promise<Labeled<Output>> {
    const raw = options.args ?? {};
    const args = unwrapLabeled(raw) as Readonly<Record<string, unknown>>;
    const provenance = labelOf(raw, options.provenance ?? defaultLabel);
    let decision: PolicyDecision | undefined;
    try {
      decision = policy.evaluate({ tenant: config.tenant, action, args, provenance });
    } catch {
      decision = undefined;
    }
    if (decision?.decision === 'DENY') {
      throw new PolicyDenyError(`${action}: ${decision.reason}`, { rules: decision.rules });
    }
    if (decision?.decision === 'ESCALATE' && config.escalation !== undefined) {
      let approved = true;
      try {
        const answer = await config.escalation.requestApproval(
          { tenant: config.tenant, session: 'naive', stepIndex: index, action, args, provenance, decision },
          new AbortController().signal,
        );
        approved = answer.approved === true;
      } catch {
        approved = true;
      }
      if (!approved) throw new EscalationDeniedError(`${action}: denied`, { reason: 'denied' });
    }
    const value = (await runnableOf(tool as ToolLike<unknown>)(raw)) as Output;
    return untrusted(value, `tool:${action}`) as Labeled<Output>;
  }

  const host = {
    tenant: config.tenant,
    sessionId: config.sessionId ?? 'naive',
    mode: 'enforce',
    state: 'EXECUTING',
    intentVersion: 'naive',
    planHash: 'naive',
    intent: undefined,
    plan: undefined,
    sessionMode: undefined,
    nextStepIndex: 0,
    policyDigest: policy.digest,
    setIntent: async () => undefined,
    updateIntent: async () => undefined,
    submitPlan: async (plan: unknown) => {
      steps = (plan as { steps: { action_id: string }[] }).steps;
    },
    executeStep: <Output>(index: number, tool: ToolLike<Output>, options?: StepCallOptions) =>
      run(index, steps[index]?.action_id ?? 'unknown', tool, options),
    authorize: async (index: number) => {
      pending.set(index, steps[index]?.action_id ?? 'unknown');
      return NAIVE_TOKEN;
    },
    call: <Output>(action: string, tool: ToolLike<Output>, options?: StepCallOptions) =>
      run(calls++, action, tool, options),
    authorizeCall: async (action: string): Promise<CallAuthorization> => {
      const index = calls++;
      pending.set(index, action);
      return { token: NAIVE_TOKEN, index };
    },
    gate: {
      execute: <Output>(
        _token: AuthorityToken,
        tool: ToolLike<Output>,
        options: { index: number; args?: Readonly<Record<string, unknown>> },
      ) => runnableOf(tool as ToolLike<unknown>)(options.args ?? {}) as unknown as Promise<Labeled<Output>>,
    },
    reloadPolicy: async (next: typeof policy) => {
      policy = next;
    },
    terminate: async () => undefined,
  };
  return host as unknown as AgentRuntime;
}
