import type { EscalationResult, ProvenanceLabel } from '@ape/core';
import { ArgumentsError, isProvenanceLabel } from '@ape/core';
import { displayText } from './display.js';

/** The largest delay `setTimeout` honours; anything above it fires at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** The longest error message or reason carried into a result (the audit log records it). */
const MAX_REASON_LENGTH = 300;

/** The shipped handlers that wait for an answer. @internal */
export type HandlerName =
  | 'ApprovalQueueEscalation'
  | 'CallbackEscalation'
  | 'ConsoleEscalation'
  | 'QueueEscalation';

/** The approver recorded when a handler denies on its own (failure, bad answer, no terminal, full queue). */
const HANDLER_APPROVER: Readonly<Record<HandlerName, string>> = Object.freeze({
  ApprovalQueueEscalation: 'approval-queue',
  CallbackEscalation: 'callback',
  ConsoleEscalation: 'console',
  QueueEscalation: 'queue',
});

/** A denial the handler decides itself, attributed to the handler's id. @internal */
export function handlerDenial(handler: HandlerName, reason: string): EscalationResult {
  return systemDenial(HANDLER_APPROVER[handler], `${handler}: ${reason}`);
}

/**
 * A frozen result. Denials the handler makes on its own (timeout, abort, failure, full queue) carry
 * `SYSTEM_TRUSTED`: the handler itself is their source.
 * @internal
 */
export function createResult(
  approved: boolean,
  approver: string,
  provenance: ProvenanceLabel,
  reason?: string,
): EscalationResult {
  return Object.freeze(
    reason === undefined ? { approved, approver, provenance } : { approved, approver, provenance, reason },
  );
}

/** A denial decided by the handler itself. @internal */
export function systemDenial(approver: string, reason: string): EscalationResult {
  return createResult(false, approver, 'SYSTEM_TRUSTED', reason);
}

/** The denial for a signal that aborted before an answer arrived. @internal */
export function abortedDenial(handler: HandlerName): EscalationResult {
  return systemDenial('aborted', `${handler}: the runtime stopped waiting for an answer (signal aborted)`);
}

/** The denial for an answer that did not arrive in time. @internal */
export function timeoutDenial(handler: HandlerName, timeoutMs: number): EscalationResult {
  return systemDenial('timeout', `${handler}: no answer within ${timeoutMs} ms`);
}

/**
 * The message of a thrown value, without its stack, escaped and bounded so it is safe to display and
 * to log. Reading `message` is guarded: a hostile getter cannot turn a failure into anything else.
 * @internal
 */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return boundedText(error.message || error.name);
    if (typeof error === 'string') return boundedText(error);
    return `a non-Error value (${error === null ? 'null' : typeof error}) was thrown`;
  } catch {
    return 'an unreadable error was thrown';
  }
}

/** Escaped and shortened text for a reason or an error message. @internal */
export function boundedText(text: string): string {
  return displayText(text, MAX_REASON_LENGTH);
}

/**
 * Checks a timeout option: a whole number of milliseconds in `1 ..` {@link MAX_TIMEOUT_MS}.
 * @throws ArgumentsError (`ARGS_INVALID`) naming the option.
 * @internal
 */
export function checkTimeout(handler: HandlerName, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MS) {
    throw new ArgumentsError(
      `${handler}: option "timeoutMs" must be a whole number of milliseconds between 1 and ${MAX_TIMEOUT_MS}`,
      { field: 'timeoutMs', handler },
    );
  }
  return value;
}

/**
 * Checks an approver identity: a non-empty string once trimmed.
 * @throws ArgumentsError (`ARGS_INVALID`) naming the field.
 * @internal
 */
export function checkApprover(handler: HandlerName, field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ArgumentsError(`${handler}: "${field}" must be a non-empty string naming the approver`, {
      field,
      handler,
    });
  }
  return value;
}

/**
 * Turns whatever a host callback answered into a well-formed result, failing closed:
 * - `true` / `false` become an answer of `approver` with provenance `USER_TRUSTED`;
 * - an object is copied (never returned as is, so the host cannot change it afterwards); only
 *   `approved === true` approves; an unknown or missing provenance becomes `EXTERNAL_UNTRUSTED`,
 *   which the runtime refuses for approvals; a denial without an approver is attributed to
 *   `approver`; an approval without an approver is turned into a denial;
 * - anything else is a denial.
 * @internal
 */
export function normaliseAnswer(handler: HandlerName, approver: string, answer: unknown): EscalationResult {
  if (answer === true || answer === false) return createResult(answer, approver, 'USER_TRUSTED');
  if (typeof answer !== 'object' || answer === null) {
    return handlerDenial(handler, 'the callback answered neither a boolean nor an EscalationResult');
  }
  try {
    const fields = answer as Record<string, unknown>;
    const approved = fields['approved'] === true;
    const rawApprover = fields['approver'];
    const rawProvenance = fields['provenance'];
    const rawReason = fields['reason'];
    const named = typeof rawApprover === 'string' && rawApprover.trim() !== '' ? rawApprover : undefined;
    const provenance = isProvenanceLabel(rawProvenance) ? rawProvenance : 'EXTERNAL_UNTRUSTED';
    const reason = typeof rawReason === 'string' ? boundedText(rawReason) : undefined;
    if (approved && named === undefined) {
      return handlerDenial(handler, 'an approval without an approver identity was refused');
    }
    return createResult(approved, named ?? approver, provenance, reason);
  } catch (error) {
    return handlerDenial(handler, `the callback's answer could not be read: ${describeError(error)}`);
  }
}

/**
 * Waits for `ask` to answer, but never longer than `timeoutMs` and never past an abort of `signal`.
 * `ask` receives a signal that aborts as soon as the wait ends for any reason, so it can stop asking.
 * A throw or rejection of `ask` is a denial naming the error message. Always resolves, never rejects.
 * @internal
 */
export function awaitAnswer(
  handler: HandlerName,
  timeoutMs: number,
  signal: AbortSignal,
  ask: (signal: AbortSignal) => Promise<EscalationResult>,
): Promise<EscalationResult> {
  if (signal.aborted) return Promise.resolve(abortedDenial(handler));
  return new Promise<EscalationResult>((resolve) => {
    const inner = new AbortController();
    let settled = false;
    const finish = (result: EscalationResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      inner.abort();
      resolve(result);
    };
    const onAbort = (): void => finish(abortedDenial(handler));
    const timer = setTimeout(() => finish(timeoutDenial(handler, timeoutMs)), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    let answer: Promise<EscalationResult>;
    try {
      answer = ask(inner.signal);
    } catch (error) {
      answer = Promise.reject(error);
    }
    Promise.resolve(answer).then(finish, (error: unknown) =>
      finish(handlerDenial(handler, `the approval failed: ${describeError(error)}`)),
    );
  });
}
