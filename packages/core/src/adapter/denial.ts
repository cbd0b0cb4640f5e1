import { ApeError, InternalError } from '../errors.js';

/** Why a call did not run, as the model is told. */
export interface Refusal {
  readonly action: string;
  /** The error code: `POLICY_DENY`, `ESCALATION_DENIED`, ... or `INTERNAL` for a non-APE failure. */
  readonly code: string;
  readonly reason: string;
  readonly rules: readonly string[];
}

/**
 * What the model is told about a refused call. For an APE error: its policy reason (or its message
 * when there is none) and rule ids. For anything else: only the error's class name, never its
 * message or stack, which may carry secrets.
 */
export function refusalOf(action: string, error: unknown): Refusal {
  if (ApeError.isInstance(error)) {
    const reason = error.details['reason'];
    const rules = error.details['rules'];
    return {
      action,
      code: error.code,
      reason:
        typeof reason === 'string' && error.code !== 'ESCALATION_DENIED' ? reason : firstLine(error.message),
      rules: Array.isArray(rules) ? rules.filter((rule): rule is string => typeof rule === 'string') : [],
    };
  }
  const name = error instanceof Error ? error.name : typeof error;
  return {
    action,
    code: 'INTERNAL',
    reason: `the call could not be checked (${name}); failing closed.`,
    rules: [],
  };
}

/** `APE denied <action>: <reason> (rules: a, b)`: the text a refused call's tool result carries. */
export function denialText(refusal: Refusal): string {
  const rules = refusal.rules.length === 0 ? '' : ` (rules: ${refusal.rules.join(', ')})`;
  return `APE denied ${refusal.action}: ${refusal.reason}${rules}`;
}

/**
 * What an adapter throws for a refused call with `onDeny: 'throw'`: the APE error itself, or for
 * any other failure an {@link InternalError} (`INTERNAL`) whose message is the denial `text`,
 * `details.action` the call and `cause` the original error.
 */
export function refusalError(action: string, error: unknown, text: string): ApeError {
  return ApeError.isInstance(error) ? error : new InternalError(text, { action }, { cause: error });
}

function firstLine(message: string): string {
  const end = message.indexOf('\n');
  return end === -1 ? message : message.slice(0, end);
}
