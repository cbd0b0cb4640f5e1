import { sha256 } from '@ape/core';

const FINGERPRINT_PREFIX = 'ape-token-fingerprint:';

/**
 * The non-secret fingerprint of a token id: the first 16 hex digits of
 * `sha256('ape-token-fingerprint:' + id)`. One-way, so it is safe in logs and audit records; the
 * prefix keeps it distinct from any other hash of the id.
 */
export function tokenFingerprint(id: string): string {
  return sha256(FINGERPRINT_PREFIX + id).slice(0, 16);
}
