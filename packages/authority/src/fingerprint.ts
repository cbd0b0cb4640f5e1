import * as nodeCrypto from 'node:crypto';
import { sha256 } from '@ape/core';

const FINGERPRINT_PREFIX = 'ape-token-fingerprint:';

/**
 * The non-secret fingerprint of a token id: the first 16 hex digits of
 * `sha256('ape-token-fingerprint:' + id)`. One-way, so it is safe in logs and audit records; the
 * prefix keeps it distinct from any other hash of the id.
 */
export function tokenFingerprint(id: string): string {
  const hex =
    oneShotHash === undefined
      ? sha256(FINGERPRINT_PREFIX + id)
      : oneShotHash('sha256', FINGERPRINT_PREFIX + id, 'hex');
  return flatPrefix16(hex);
}

/**
 * The first 16 characters of `hex` as a flat string of their own. A `slice` would keep all 64
 * characters alive for as long as the token lives; a `'buffer'` digest costs an external
 * allocation per token (about three times the hash itself).
 */
function flatPrefix16(hex: string): string {
  return String.fromCharCode(
    hex.charCodeAt(0),
    hex.charCodeAt(1),
    hex.charCodeAt(2),
    hex.charCodeAt(3),
    hex.charCodeAt(4),
    hex.charCodeAt(5),
    hex.charCodeAt(6),
    hex.charCodeAt(7),
    hex.charCodeAt(8),
    hex.charCodeAt(9),
    hex.charCodeAt(10),
    hex.charCodeAt(11),
    hex.charCodeAt(12),
    hex.charCodeAt(13),
    hex.charCodeAt(14),
    hex.charCodeAt(15),
  );
}

type OneShotHash = (algorithm: string, data: string, outputEncoding: 'hex') => string;

/** `crypto.hash` (Node ≥ 20.12): one native call. */
const oneShotHash = (nodeCrypto as { hash?: OneShotHash }).hash;
