import { canonicalJson } from '../canonical-json.js';
import { deepFreeze } from '../deep-freeze.js';
import { ArgumentsError } from '../errors.js';
import { isProvenanceLabel } from '../labels.js';
import type { ProvenanceLabel } from '../types.js';
import type {
  ApprovalAnswer,
  ApprovalBinding,
  ApprovalPublication,
  ApprovalSettlement,
} from '../ports/approval-queue.js';
import { APPROVAL_BINDING_FIELDS } from '../ports/approval-queue.js';

/** The longest approver id or reason a queue stores. */
const MAX_TEXT_LENGTH = 1_000;

function fail(where: string, field: string, expected: string): never {
  throw new ArgumentsError(`${where}: "${field}" must be ${expected}.`, { field });
}

function checkText(where: string, field: string, value: unknown, optional = false): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_TEXT_LENGTH) {
    fail(where, field, `a non-empty string of at most ${MAX_TEXT_LENGTH} characters`);
  }
  return value;
}

/**
 * Checks an {@link ApprovalBinding} and returns a frozen copy holding only its fields.
 * @throws ArgumentsError (`ARGS_INVALID`) naming the field.
 */
export function checkApprovalBinding(where: string, value: unknown, prefix = ''): ApprovalBinding {
  if (typeof value !== 'object' || value === null) fail(where, prefix || 'binding', 'an object');
  const fields = value as Record<string, unknown>;
  const stepIndex = fields['stepIndex'];
  if (typeof stepIndex !== 'number' || !Number.isInteger(stepIndex) || stepIndex < 0) {
    fail(where, `${prefix}stepIndex`, 'a whole number of at least 0');
  }
  const argsHash = fields['argsHash'];
  if (typeof argsHash !== 'string' || !/^[0-9a-f]{64}$/.test(argsHash)) {
    fail(where, `${prefix}argsHash`, 'the sha256 (64 lowercase hex digits) of the canonical arguments');
  }
  return Object.freeze({
    tenant: checkText(where, `${prefix}tenant`, fields['tenant']) as string,
    session: checkText(where, `${prefix}session`, fields['session']) as string,
    stepIndex,
    action: checkText(where, `${prefix}action`, fields['action']) as string,
    argsHash,
  });
}

/**
 * The first field in which `actual` differs from `expected`, or `undefined` when they name the same
 * call. Every queue and handler compares bindings through this one function.
 */
export function findApprovalBindingMismatch(
  expected: ApprovalBinding,
  actual: ApprovalBinding,
): keyof ApprovalBinding | undefined {
  for (const field of APPROVAL_BINDING_FIELDS) {
    if (expected[field] !== actual[field]) return field;
  }
  return undefined;
}

/**
 * Checks what a process publishes and returns a deep-frozen copy (the caller's later changes reach
 * nothing). `args` must be plain JSON; `decision` keeps its rule ids and reason.
 * @throws ArgumentsError (`ARGS_INVALID`) naming the field; `CanonicalJsonError` for non-JSON args.
 */
export function checkApprovalPublication(where: string, value: unknown): ApprovalPublication {
  const binding = checkApprovalBinding(where, value);
  const fields = value as Record<string, unknown>;
  const args = fields['args'];
  if (typeof args !== 'object' || args === null || Array.isArray(args)) fail(where, 'args', 'a JSON object');
  canonicalJson(args);
  if (!isProvenanceLabel(fields['provenance'])) {
    fail(where, 'provenance', 'SYSTEM_TRUSTED, USER_TRUSTED or EXTERNAL_UNTRUSTED');
  }
  const expiresAt = fields['expiresAt'];
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    fail(where, 'expiresAt', 'a whole number of milliseconds since the epoch');
  }
  const decision = fields['decision'];
  if (typeof decision !== 'object' || decision === null) fail(where, 'decision', 'a PolicyDecision');
  const argLabels = checkArgLabels(where, fields['argLabels']);
  return deepFreeze({
    ...binding,
    args: structuredClone(args) as Record<string, unknown>,
    provenance: fields['provenance'],
    ...(argLabels === undefined ? {} : { argLabels }),
    decision: structuredClone(decision) as ApprovalPublication['decision'],
    expiresAt,
  });
}

/** `argLabels` of a publication: absent, or JSON pointers (`''` or `/…`) to labels; copied. */
function checkArgLabels(where: string, value: unknown): Record<string, ProvenanceLabel> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(where, 'argLabels', 'an object of JSON pointers to labels');
  }
  const copy: Record<string, ProvenanceLabel> = {};
  for (const [pointer, label] of Object.entries(value)) {
    if ((pointer !== '' && !pointer.startsWith('/')) || !isProvenanceLabel(label)) {
      fail(where, 'argLabels', 'an object of JSON pointers ("" or "/…") to labels');
    }
    Object.defineProperty(copy, pointer, {
      value: label,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/**
 * Checks an approver's answer and returns a frozen copy.
 * @throws ArgumentsError (`ARGS_INVALID`) naming the field (`approver`, `provenance`, `binding.*`, ...).
 */
export function checkApprovalAnswer(where: string, value: unknown): ApprovalAnswer {
  if (typeof value !== 'object' || value === null) fail(where, 'answer', 'an object');
  const fields = value as Record<string, unknown>;
  if (typeof fields['approved'] !== 'boolean') fail(where, 'approved', 'true or false');
  const approver = checkText(where, 'approver', fields['approver']) as string;
  if (!isProvenanceLabel(fields['provenance'])) {
    fail(where, 'provenance', 'SYSTEM_TRUSTED, USER_TRUSTED or EXTERNAL_UNTRUSTED');
  }
  const reason = checkText(where, 'reason', fields['reason'], true);
  const binding = checkApprovalBinding(where, fields['binding'], 'binding.');
  return Object.freeze({
    approved: fields['approved'],
    approver,
    provenance: fields['provenance'],
    ...(reason === undefined ? {} : { reason }),
    binding,
  });
}

/** Checks a cancellation reason. @throws ArgumentsError (`ARGS_INVALID`). */
export function checkCancelReason(where: string, value: unknown): string {
  return checkText(where, 'reason', value) as string;
}

/** The settlement an accepted answer becomes. */
export function answeredSettlement(
  id: string,
  answer: ApprovalAnswer,
  settledAt: number,
): ApprovalSettlement {
  return Object.freeze({
    state: 'answered',
    id,
    approved: answer.approved,
    approver: answer.approver,
    provenance: answer.provenance,
    ...(answer.reason === undefined ? {} : { reason: answer.reason }),
    binding: answer.binding,
    settledAt,
  });
}
