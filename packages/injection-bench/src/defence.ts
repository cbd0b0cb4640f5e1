import type { ProvenanceLabel, Tool } from '@ape/core';
import type { Suite, UserTask } from './suite.js';
import { messageOf } from '@ape/core';

/**
 * How the runner labels a call, as the framework adapters do (DESIGN §10):
 * - `context`: context taint — every call carries the least trusted label of what the model has seen
 *   (the user's prompt is USER_TRUSTED; once an untrusted output is in the conversation, later calls
 *   carry EXTERNAL_UNTRUSTED);
 * - `dataflow`: only arguments whose value was copied from an untrusted output are untrusted (each
 *   such argument is a labelled value, `createLabeled`); plain arguments are USER_TRUSTED.
 */
export type ProvenanceMode = 'context' | 'dataflow';

/** One call the compromised model makes, in both provenance forms. */
export interface CallRequest {
  readonly tool: Tool;
  /** The arguments as plain JSON. */
  readonly args: Readonly<Record<string, unknown>>;
  /** The call's label under context taint. */
  readonly contextLabel: ProvenanceLabel;
  /** The arguments with every copied argument wrapped in a labelled value (dataflow). */
  readonly labeledArgs: Readonly<Record<string, unknown>>;
}

/** What became of a call. */
export type CallOutcome =
  | { readonly kind: 'ran'; readonly output: unknown; readonly label: ProvenanceLabel }
  /** The tool refused (unknown id, bad arguments, insufficient funds): the model sees the error. */
  | { readonly kind: 'failed'; readonly message: string }
  /** The defence refused the call; the model sees the refusal and carries on. */
  | { readonly kind: 'blocked'; readonly message: string }
  /** The defence ended the session (an escalation was denied): no further call can run. */
  | { readonly kind: 'stopped'; readonly message: string };

/** A defence's view of one run (one agent session). */
export interface DefenceSession {
  call(request: CallRequest): Promise<CallOutcome>;
  /** How many calls were escalated to a human so far. */
  readonly escalations: number;
  /** Ends the session (idempotent). */
  close(): Promise<void>;
}

/** A row of the results table: a way of guarding the agent's tool calls. */
export interface Defence {
  readonly id: string;
  readonly title: string;
  start(suite: Suite, task: UserTask): Promise<DefenceSession>;
}

/** Runs a tool outside any gate: its argument schema, then its behaviour; a throw is the tool's error. */
export async function runTool(tool: Tool, args: Readonly<Record<string, unknown>>): Promise<CallOutcome> {
  const issues = tool.checkArgs(args);
  if (issues.length > 0) {
    return { kind: 'failed', message: issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ') };
  }
  try {
    return { kind: 'ran', output: await tool.run(args), label: tool.outputLabel };
  } catch (error) {
    return { kind: 'failed', message: messageOf(error) };
  }
}

/** No defence: every call runs. */
export const noDefence: Defence = Object.freeze({
  id: 'none',
  title: 'No defence',
  start: () =>
    Promise.resolve({
      escalations: 0,
      call: (request: CallRequest) => runTool(request.tool, request.args),
      close: () => Promise.resolve(),
    }),
});

/**
 * The tool filter of AgentDojo, as an oracle generous to it: the session may use only the tools the
 * user task's ground truth uses; any other call is refused and the model carries on.
 */
export const toolFilterDefence: Defence = Object.freeze({
  id: 'tool-filter',
  title: 'Tool filter (oracle)',
  start: (_suite: Suite, task: UserTask) => {
    const allowed = new Set(task.calls.map((call) => call.tool));
    return Promise.resolve({
      escalations: 0,
      call: (request: CallRequest) =>
        allowed.has(request.tool.id)
          ? runTool(request.tool, request.args)
          : Promise.resolve<CallOutcome>({
              kind: 'blocked',
              message: `${request.tool.id} is not in the task's tool set`,
            }),
      close: () => Promise.resolve(),
    });
  },
});
