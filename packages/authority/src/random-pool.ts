import { randomFillSync } from 'node:crypto';

/**
 * Random bytes drawn from the CSPRNG at once and handed out a few at a time: a `randomFillSync`
 * call costs about 4 µs before its first byte, 13 µs for all 64 KiB.
 */
const RANDOM_POOL_BYTES = 65_536;
const FINGERPRINT_BYTES = 8;

/** Pooled CSPRNG output: bytes before `offset` were handed out (and zeroed) and are never reused. */
const pool = Buffer.alloc(RANDOM_POOL_BYTES);
let offset = RANDOM_POOL_BYTES;

/** The char codes of the 16 lower-case hex digits. */
const HEX_CODES = Uint8Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));

/** The pool's offset of `bytes` fresh bytes, refilling it from the CSPRNG first when it runs out. */
function take(bytes: number): number {
  if (offset + bytes > RANDOM_POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset = start + bytes;
  return start;
}

/**
 * `bytes` fresh random bytes as a flat string of hex digits, from `crypto.randomFillSync` through
 * the pool, so the CSPRNG is called once per 64 KiB. Each slice is read once and zeroed; the pool is
 * refilled when exhausted, so no byte is ever used twice.
 */
export function randomHex(bytes: number): string {
  const start = take(bytes);
  const hex = pool.toString('hex', start, start + bytes);
  pool.fill(0, start, start + bytes);
  return hex;
}

/**
 * 64 fresh random bits from the same pool as 16 lower-case hex digits, in one flat string: the same
 * text as `randomHex(8)`, built from the bytes in JavaScript (a `toString('hex')` call and a `fill`
 * cost more than the conversion itself). The bytes are zeroed and never used again.
 */
export function randomFingerprint(): string {
  const start = take(FINGERPRINT_BYTES);
  return hexOfEight(pool, start, true);
}

/**
 * The 16 hex digits of `source[start..start + 8)`, optionally zeroing those bytes. Exported for
 * tests only (not from the package).
 */
export function hexOfEight(source: Uint8Array, start: number, zero: boolean): string {
  const b0 = source[start] as number;
  const b1 = source[start + 1] as number;
  const b2 = source[start + 2] as number;
  const b3 = source[start + 3] as number;
  const b4 = source[start + 4] as number;
  const b5 = source[start + 5] as number;
  const b6 = source[start + 6] as number;
  const b7 = source[start + 7] as number;
  if (zero) {
    // Assignments, not `fill`: Buffer's `fill` checks its arguments at more cost than eight stores.
    for (let index = start; index < start + FINGERPRINT_BYTES; index++) source[index] = 0;
  }
  return String.fromCharCode(
    HEX_CODES[b0 >> 4] as number,
    HEX_CODES[b0 & 15] as number,
    HEX_CODES[b1 >> 4] as number,
    HEX_CODES[b1 & 15] as number,
    HEX_CODES[b2 >> 4] as number,
    HEX_CODES[b2 & 15] as number,
    HEX_CODES[b3 >> 4] as number,
    HEX_CODES[b3 & 15] as number,
    HEX_CODES[b4 >> 4] as number,
    HEX_CODES[b4 & 15] as number,
    HEX_CODES[b5 >> 4] as number,
    HEX_CODES[b5 & 15] as number,
    HEX_CODES[b6 >> 4] as number,
    HEX_CODES[b6 & 15] as number,
    HEX_CODES[b7 >> 4] as number,
    HEX_CODES[b7 & 15] as number,
  );
}
