import * as nodeCrypto from 'node:crypto';
import { sha256 } from '@ape/core';

const FINGERPRINT_PREFIX = 'ape-token-fingerprint:';

/**
 * The non-secret fingerprint of a token id: the first 16 hex digits of
 * `sha256('ape-token-fingerprint:' + id)`. One-way, so it is safe in logs and audit records; the
 * prefix keeps it distinct from any other hash of the id.
 */
export function tokenFingerprint(id: string): string {
  // The first 8 bytes as hex: a flat 16-character string (a slice of the 64-character hex would
  // keep all of it alive for as long as the token lives).
  return oneShotHash === undefined
    ? sha256(FINGERPRINT_PREFIX + id).slice(0, 16)
    : oneShotHash('sha256', FINGERPRINT_PREFIX + id, 'buffer').toString('hex', 0, 8);
}

type OneShotHash = (algorithm: string, data: string, outputEncoding: 'buffer') => Buffer;

/** `crypto.hash` (Node ≥ 20.12): one native call. */
const oneShotHash = (nodeCrypto as { hash?: OneShotHash }).hash;
