import { AuthorityManager } from '@ape/authority';
import {
  ArgumentsError,
  createLabeled,
  createRuntime,
  EscalationDeniedError,
  type EscalationHandler,
  isLabeled,
  PolicyDenyError,
} from '@ape/core';
import type { CallOutcome, CallRequest, Defence, ProvenanceMode } from './defence.js';
import { ToolFailure } from './environments/tool-kit.js';

/** How the benchmark answers escalations: nobody approves, or a human approves everything. */
export type EscalationAnswer = 'deny-all' | 'approve-all';

/**
 * How an APE row labels its calls and which committed policy it loads:
 * - `context` and `dataflow` ({@link ProvenanceMode}) with the suite's `policy`;
 * - `per-argument`: every argument is a labelled value as in `dataflow` (copied or injected text
 *   EXTERNAL_UNTRUSTED, the model's own text from the user's prompt USER_TRUSTED), the call declares
 *   its context-taint label, and the suite's `perArgumentPolicy` decides with `x-ape-provenance` on
 *   the arguments that name a destination. The runtime labels a call with its least trusted
 *   argument when every argument is labelled, so the declared label only labels calls without
 *   arguments.
 */
export type ApeMode = ProvenanceMode | 'per-argument';

const TITLES: Readonly<Record<ApeMode, string>> = {
  context: 'context taint',
  dataflow: 'dataflow',
  'per-argument': 'per-argument',
};

/** The tenant every benchmark session runs under. */
const TENANT = 'injection-bench';

/**
 * APE as a defence: one runtime per run, in calls mode, with the suite's committed policy, a real
 * `AuthorityManager`, and an intent that allows every tool of the environment (the intent is the
 * agent's tool set, not the task's: narrowing it to the task's tools would be the tool filter's
 * oracle). Each call goes through `runtime.call` with provenance as the framework adapters assign
 * it (`context` or `dataflow`, see {@link ProvenanceMode}), or per argument (see {@link ApeMode}).
 * A DENY (`PolicyDenyError`) goes back to the model and the run continues; a denied escalation
 * (`EscalationDeniedError`) ends the session, as the runtime terminates it.
 */
export function apeDefence(provenance: ApeMode, answer: EscalationAnswer): Defence {
  const defence: Defence = {
    id: `ape-${provenance}-${answer}`,
    title: `APE, ${TITLES[provenance]}, ${answer}`,
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
        policy: provenance === 'per-argument' ? suite.perArgumentPolicy : suite.policy,
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
              : provenance === 'dataflow'
                ? { args: request.labeledArgs, provenance: 'USER_TRUSTED' as const }
                : { args: everyArgumentLabelled(request.labeledArgs), provenance: request.contextLabel };
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

/**
 * The dataflow arguments with every plain argument wrapped as USER_TRUSTED (the model wrote it from
 * the user's prompt), so that each argument's label is its own and not the call's declared one.
 */
function everyArgumentLabelled(args: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const labelled: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) {
    Object.defineProperty(labelled, name, {
      value: isLabeled(value) ? value : createLabeled(value, 'USER_TRUSTED', ['user']),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return labelled;
}

function outcomeOf(error: unknown): CallOutcome {
  if (error instanceof ToolFailure) return { kind: 'failed', message: error.message };
  if (ArgumentsError.isInstance(error)) return { kind: 'failed', message: error.message };
  if (PolicyDenyError.isInstance(error)) return { kind: 'blocked', message: error.message };
  if (EscalationDeniedError.isInstance(error)) return { kind: 'stopped', message: error.message };
  // Anything else is a bug in the benchmark or the runtime: it must stop the run, not count as a result.
  throw error;
}

/** The six APE rows: context taint, dataflow and per-argument, each with escalations denied and approved. */
export function apeDefences(): readonly Defence[] {
  return [
    apeDefence('context', 'deny-all'),
    apeDefence('context', 'approve-all'),
    apeDefence('dataflow', 'deny-all'),
    apeDefence('dataflow', 'approve-all'),
    apeDefence('per-argument', 'deny-all'),
    apeDefence('per-argument', 'approve-all'),
  ];
}
