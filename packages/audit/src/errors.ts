import { ApeError, type ApeErrorDetails } from '@ape/core';
import type { AuditVerification } from './verify.js';

/**
 * An audit log failed verification or could not be parsed (`AUDIT_INVALID`): thrown when reopening a
 * tampered file and by {@link readAuditLog} on a broken chain. `details` carries `path`, `problem`,
 * `firstBadSeq` and `firstBadLine` where known.
 */
export class AuditLogError extends ApeError {
  static override readonly CODE = 'AUDIT_INVALID' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('AUDIT_INVALID', message, details, options);
  }
}

/**
 * @internal The error for the log at `path` whose `verification` failed: its message, problem and
 * first bad record in `details`.
 */
export function verificationFailed(path: string, verification: AuditVerification): AuditLogError {
  return new AuditLogError(`Audit log ${path} failed verification: ${verification.message}`, {
    path,
    problem: verification.problem,
    firstBadSeq: verification.firstBadSeq,
    firstBadLine: verification.firstBadLine,
  });
}

/**
 * A checkpoint signer or verifier key is malformed, of another algorithm than Ed25519, or its key
 * hash does not match its name and key (`AUDIT_KEY_INVALID`). `details.source` names where the key
 * came from.
 */
export class AuditKeyError extends ApeError {
  static override readonly CODE = 'AUDIT_KEY_INVALID' as const;
  constructor(message: string, details: ApeErrorDetails = {}, options?: { cause?: unknown }) {
    super('AUDIT_KEY_INVALID', message, details, options);
  }
}
