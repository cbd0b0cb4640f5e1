import type { ApprovalSettlement, PendingApproval, Revocation } from '@ape/core';
import {
  answeredSettlement,
  canonicalJson,
  checkApprovalAnswer,
  checkApprovalPublication,
  checkCancelReason,
  checkRevocationDetails,
  checkRevocationTarget,
  deepFreeze,
  StoreUnavailableError,
} from '@ape/core';

/**
 * The one place where `@ape/redis` reads JSON back from Redis. Whatever is stored is treated as
 * untrusted: it is parsed, checked with the same rules as fresh input, and a record that fails
 * becomes `StoreUnavailableError` (the guarded call is denied), never a default value.
 */

function malformed(store: string, operation: string, what: string, cause?: unknown): StoreUnavailableError {
  return new StoreUnavailableError(
    `${store}.${operation}: the ${what} stored in Redis is malformed; it is treated as unavailable (denied). Check that nothing else writes under this key prefix.`,
    { store, operation },
    cause === undefined ? undefined : { cause },
  );
}

function parse(store: string, operation: string, what: string, text: unknown): Record<string, unknown> {
  if (typeof text !== 'string') throw malformed(store, operation, what);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw malformed(store, operation, what, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(store, operation, what);
  return value as Record<string, unknown>;
}

function whole(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Canonical JSON of a stored record. @internal */
export function encodeRecord(value: unknown): string {
  return canonicalJson(value);
}

/** A pending request read back from Redis. @internal @throws StoreUnavailableError when malformed. */
export function decodeRequest(store: string, operation: string, text: unknown, id: string): PendingApproval {
  const fields = parse(store, operation, 'approval request', text);
  try {
    const publication = checkApprovalPublication(`${store}.${operation}`, fields);
    if (fields['id'] !== id || !whole(fields['createdAt'])) throw new Error('id or createdAt');
    return deepFreeze({ ...publication, id, createdAt: fields['createdAt'] });
  } catch (error) {
    throw malformed(store, operation, 'approval request', error);
  }
}

/** A settlement read back from Redis. @internal @throws StoreUnavailableError when malformed. */
export function decodeSettlement(
  store: string,
  operation: string,
  text: unknown,
  id: string,
): ApprovalSettlement {
  const fields = parse(store, operation, 'approval settlement', text);
  try {
    const settledAt = fields['settledAt'];
    if (fields['id'] !== id || !whole(settledAt)) throw new Error('id or settledAt');
    switch (fields['state']) {
      case 'answered':
        return answeredSettlement(id, checkApprovalAnswer(`${store}.${operation}`, fields), settledAt);
      case 'timeout':
        return Object.freeze({ state: 'timeout', id, settledAt });
      case 'cancelled':
        return Object.freeze({
          state: 'cancelled',
          id,
          reason: checkCancelReason(`${store}.${operation}`, fields['reason']),
          settledAt,
        });
      default:
        throw new Error('unknown state');
    }
  } catch (error) {
    throw malformed(store, operation, 'approval settlement', error);
  }
}

/** A revocation read back from Redis. @internal @throws StoreUnavailableError when malformed. */
export function decodeRevocation(store: string, operation: string, text: unknown): Revocation {
  const fields = parse(store, operation, 'revocation', text);
  try {
    const target = checkRevocationTarget(`${store}.${operation}`, fields['target']);
    const { reason, revokedBy } = checkRevocationDetails(`${store}.${operation}`, fields);
    if (!whole(fields['revokedAt'])) throw new Error('revokedAt');
    return Object.freeze({ target, reason, revokedBy, revokedAt: fields['revokedAt'] });
  } catch (error) {
    throw malformed(store, operation, 'revocation', error);
  }
}
