import {
  type EscalationRequest,
  type EscalationResult,
  escapeTerminalText,
  quoteTerminalText,
} from '@ape/core';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';

/**
 * The most arguments (top-level names) an approval prompt shows. An escalated call with more is
 * denied without asking: a human cannot check what a prompt cannot show in full.
 */
export const MAX_APPROVAL_ARGUMENTS = 32;

/**
 * The most characters the arguments may take in an approval prompt once escaped (names, quotes and
 * separators included). An escalated call whose arguments need more is denied without asking.
 */
export const MAX_APPROVAL_ARGUMENTS_LENGTH = 8_000;

/** Deeper nesting than this in one argument cannot be shown in full: the call is denied unasked. */
const MAX_APPROVAL_DEPTH = 16;
/** The longest reason shown (the policy's text, not an argument: it may be cut). */
const MAX_REASON_LENGTH = 500;
/** The longest rule id shown. */
const MAX_RULE_LENGTH = 120;
const BARE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** Who is recorded as the approver of an answer given through MCP elicitation. */
export const ELICITATION_APPROVER = 'mcp-elicitation';
/** Who is recorded when the gateway denies an escalation without asking (arguments not showable). */
const GATEWAY_APPROVER = 'mcp-gateway';

/** The text of an approval prompt, or why the arguments cannot be shown in full. */
export type ApprovalPrompt =
  | { readonly ok: true; readonly message: string }
  | { readonly ok: false; readonly reason: string };

class NotShowable extends Error {}

/** Renders argument values in full, escaped and quoted, within a budget of characters. */
class ArgumentWriter {
  #left = MAX_APPROVAL_ARGUMENTS_LENGTH;

  take(text: string): string {
    this.#left -= text.length;
    if (this.#left < 0) {
      throw new NotShowable(
        `the arguments take more than ${MAX_APPROVAL_ARGUMENTS_LENGTH} characters when shown, too long to show in full`,
      );
    }
    return text;
  }

  quoted(text: string): string {
    // Text that does not fit in what is left comes back cut, without its closing quote last.
    const shown = quoteTerminalText(text, { maxLength: Math.max(1, this.#left) });
    return this.take(shown.endsWith('"') ? shown : `${shown}${' '.repeat(this.#left + 1)}`);
  }

  name(name: string): string {
    return BARE_NAME.test(name) ? this.take(name) : this.quoted(name);
  }

  value(value: unknown, depth: number): string {
    if (depth > MAX_APPROVAL_DEPTH) {
      throw new NotShowable(`an argument is nested deeper than ${MAX_APPROVAL_DEPTH} levels`);
    }
    if (typeof value === 'string') return this.quoted(value);
    if (typeof value === 'number' && Number.isFinite(value)) return this.take(String(value));
    if (typeof value === 'boolean' || value === null) return this.take(String(value));
    if (Array.isArray(value)) {
      let shown = this.take('[');
      for (let index = 0; index < value.length; index++) {
        if (index > 0) shown += this.take(', ');
        shown += this.value(value[index], depth + 1);
      }
      return shown + this.take(']');
    }
    if (typeof value === 'object' && isPlainObject(value)) {
      let shown = this.take('{');
      Object.keys(value)
        .sort()
        .forEach((key, index) => {
          if (index > 0) shown += this.take(', ');
          shown += `${this.name(key)}${this.take(': ')}${this.value((value as Record<string, unknown>)[key], depth + 1)}`;
        });
      return shown + this.take('}');
    }
    throw new NotShowable(`an argument holds a value that is not plain JSON (${typeof value})`);
  }
}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The elicitation message for an escalated call: the tool, the policy's reason and rule ids, the
 * provenance of the arguments, then **every argument by name, sorted, each value in full**:
 * strings quoted with every control, bidi, zero-width and line-separator character escaped
 * (core's `quoteTerminalText`), nested objects and arrays written out. When the arguments cannot
 * be shown in full — more than {@link MAX_APPROVAL_ARGUMENTS} names, more than
 * {@link MAX_APPROVAL_ARGUMENTS_LENGTH} characters once escaped, nesting deeper than 16 levels, a
 * value that is not plain JSON, or arguments that cannot be read — it says why instead, and the
 * gateway denies the call without asking.
 */
export function approvalPrompt(request: EscalationRequest): ApprovalPrompt {
  let lines: string[];
  try {
    const args = request.args;
    const names = Object.keys(args).sort();
    if (names.length > MAX_APPROVAL_ARGUMENTS) {
      return {
        ok: false,
        reason: `the call has ${names.length} arguments, more than the ${MAX_APPROVAL_ARGUMENTS} an approval prompt shows in full`,
      };
    }
    const writer = new ArgumentWriter();
    lines = names.map((name) => `  ${writer.name(name)}${writer.take(': ')}${writer.value(args[name], 1)}`);
  } catch (error) {
    const why = error instanceof NotShowable ? error.message : 'the arguments cannot be read';
    return { ok: false, reason: `${why}; the call was denied without asking` };
  }
  const decision = request.decision;
  const rules = Array.isArray(decision?.rules)
    ? decision.rules.map((rule) => escapeTerminalText(String(rule), { maxLength: MAX_RULE_LENGTH }))
    : [];
  const message = [
    `APE asks for your approval before the tool ${quoteTerminalText(String(request.action))} runs.`,
    `Why: ${escapeTerminalText(String(decision?.reason ?? ''), { maxLength: MAX_REASON_LENGTH })}${
      rules.length === 0 ? '' : ` (rules: ${rules.join(', ')})`
    }`,
    `Provenance of the arguments: ${escapeTerminalText(String(request.provenance))}`,
    ...argumentLabelLines(request.argLabels),
    lines.length === 0
      ? 'Arguments: none.'
      : `Arguments (${lines.length}, every one shown in full; text is quoted, invisible and control characters are escaped):`,
    ...lines,
    'Approve only if these are exactly the arguments you expect.',
  ];
  return { ok: true, message: message.join('\n') };
}

/**
 * The label of each argument by JSON pointer (`EscalationRequest.argLabels`), sorted, escaped as
 * terminal text: pointers are built from argument names, which may hold anything.
 */
function argumentLabelLines(labels: EscalationRequest['argLabels']): string[] {
  if (typeof labels !== 'object' || labels === null) return [];
  const pointers = Object.keys(labels).sort();
  if (pointers.length === 0) return [];
  return [
    'Provenance of each argument:',
    ...pointers.map(
      (pointer) =>
        `  ${quoteTerminalText(pointer, { maxLength: MAX_REASON_LENGTH })}: ${escapeTerminalText(String(labels[pointer]))}`,
    ),
  ];
}

const APPROVAL_SCHEMA = Object.freeze({
  type: 'object' as const,
  properties: {
    approve: {
      type: 'boolean' as const,
      title: 'Approve this call',
      description: 'Let this one tool call run with exactly the arguments shown in full above.',
      default: false,
    },
  },
  required: ['approve'],
});

/**
 * Asks the human through `elicitation/create` with {@link approvalPrompt}'s message. Only an
 * `accept` whose content says `approve: true` approves; a decline, a cancel, anything malformed or
 * an error is a denial. Arguments that cannot be shown in full are denied without asking.
 * @internal
 */
export async function elicitApproval(
  server: Server,
  request: EscalationRequest,
  signal: AbortSignal,
  timeout: number,
): Promise<EscalationResult> {
  const prompt = approvalPrompt(request);
  if (!prompt.ok) {
    return {
      approved: false,
      approver: GATEWAY_APPROVER,
      provenance: 'SYSTEM_TRUSTED',
      reason: prompt.reason,
    };
  }
  const answer = await server.request(
    {
      method: 'elicitation/create',
      params: { mode: 'form', message: prompt.message, requestedSchema: APPROVAL_SCHEMA },
    },
    ElicitResultSchema,
    { signal, timeout },
  );
  const approved = answer.action === 'accept' && answer.content?.['approve'] === true;
  return {
    approved,
    approver: ELICITATION_APPROVER,
    provenance: 'USER_TRUSTED',
    reason: approved ? 'approved by the user through the MCP client' : `the user answered "${answer.action}"`,
  };
}
