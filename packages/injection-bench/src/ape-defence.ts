import { AuthorityManager } from '@ape/authority';
import {
  ArgumentsError,
  createRuntime,
  EscalationDeniedError,
  type EscalationHandler,
  PolicyDenyError,
} from '@ape/core';
import type { CallOutcome, CallRequest, Defence, ProvenanceMode } from './defence.js';
import { ToolFailure } from './environments/tool-kit.js';

/** How the benchmark answers escalations: nobody approves, or a human approves everything. */
export type EscalationAnswer = 'deny-all' | 'approve-all';

/** The tenant every benchmark session runs under. */
const TENANT = 'injection-bench';

/**
 * APE as a defence: one runtime per run, in calls mode, with the suite's committed policy, a real
 * `AuthorityManager`, and an intent that allows every tool of the environment (the intent is the
 * agent's tool set, not the task's: narrowing it to the task's tools would be the tool filter's
 * oracle). Each call goes through `runtime.call` with provenance as the framework adapters assign
 * it (`context` or `dataflow`, see {@link ProvenanceMode}). A DENY (`PolicyDenyError`) goes back to
 * the model and the run continues; a denied escalation (`EscalationDeniedError`) ends the session,
 * as the runtime terminates it.
 */
export function apeDefence(provenance: ProvenanceMode, answer: EscalationAnswer): Defence {
  const defence: Defence = {
    id: `ape-${provenance}-${answer}`,
    title: `APE, ${provenance === 'context' ? 'context taint' : 'dataflow'}, ${answer}`,
    async start(suite) {
      let escalations = 0;
      const escalation: EscalationHandler = {
        requestApproval: () => {
          escalations += 1;
          return Promise.resolve({
            approved: answer === 'approve-all',
            approver: answer,
            provenance: 'USER_TRUSTED',
          });
        },
      };
      const runtime = createRuntime({
        tenant: TENANT,
        policy: suite.policy,
        authority: new AuthorityManager({ tenant: TENANT }),
        escalation,
      });
      await runtime.setIntent(
        {
          allowed_actions: [...suite.instance.tools.keys()],
          forbidden_actions: [],
          scope: `${suite.name}: the agent's whole tool set`,
        },
        { provenance: 'USER_TRUSTED' },
      );
      return {
        get escalations() {
          return escalations;
        },
        async call(request: CallRequest): Promise<CallOutcome> {
          const options =
            provenance === 'context'
              ? { args: request.args, provenance: request.contextLabel }
              : { args: request.labeledArgs, provenance: 'USER_TRUSTED' as const };
          try {
            const output = await runtime.call(request.tool.id, request.tool, options);
            return { kind: 'ran', output: output.value, label: output.label };
          } catch (error) {
            return outcomeOf(error);
          }
        },
        close: () => runtime.terminate('benchmark run finished'),
      };
    },
  };
  return Object.freeze(defence);
}

function outcomeOf(error: unknown): CallOutcome {
  if (error instanceof ToolFailure) return { kind: 'failed', message: error.message };
  if (ArgumentsError.isInstance(error)) return { kind: 'failed', message: error.message };
  if (PolicyDenyError.isInstance(error)) return { kind: 'blocked', message: error.message };
  if (EscalationDeniedError.isInstance(error)) return { kind: 'stopped', message: error.message };
  // Anything else is a bug in the benchmark or the runtime: it must stop the run, not count as a result.
  throw error;
}

/** The four APE rows: context taint and dataflow, each with escalations denied and approved. */
export function apeDefences(): readonly Defence[] {
  return [
    apeDefence('context', 'deny-all'),
    apeDefence('context', 'approve-all'),
    apeDefence('dataflow', 'deny-all'),
    apeDefence('dataflow', 'approve-all'),
  ];
}
