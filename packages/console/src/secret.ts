import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from '@ape/core';

// scrypt cost parameters (RFC 7914; N = 2^14 is OWASP's minimum for interactive logins).
const COST = 16_384;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const HASH_PATTERN = /^scrypt\$(\d{1,7})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{43})$/;
// Bounds a configured hash may ask for, so a hostile file cannot make each login cost minutes.
const MAX_COST = 1_048_576;
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

/** The shortest secret {@link hashConsoleSecret} accepts. */
export const MIN_CONSOLE_SECRET_LENGTH = 16;

/**
 * A fresh login secret for the console: 32 random bytes as base64url (43 characters). `ape console`
 * prints one on start when no secret file is given; only its hash is kept.
 */
export function generateConsoleSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The hash of a login secret as the console stores it:
 * `scrypt$<N>$<r>$<p>$<salt base64url>$<key base64url>` with a random 16-byte salt. The console keeps
 * only this string, never the secret.
 * @throws ConfigurationError (`CONFIG_INVALID`) when the secret is shorter than
 * {@link MIN_CONSOLE_SECRET_LENGTH} characters.
 */
export function hashConsoleSecret(secret: string): string {
  if (typeof secret !== 'string' || secret.length < MIN_CONSOLE_SECRET_LENGTH) {
    throw new ConfigurationError(
      `console secret: at least ${MIN_CONSOLE_SECRET_LENGTH} characters are needed; generate one with ape console (it prints a fresh one).`,
      { field: 'secret' },
    );
  }
  const salt = randomBytes(SALT_BYTES);
  const key = scryptSync(secret, salt, KEY_BYTES, { N: COST, r: BLOCK_SIZE, p: PARALLELISM });
  return `scrypt$${COST}$${BLOCK_SIZE}$${PARALLELISM}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** @internal A parsed secret hash. */
export interface ParsedSecretHash {
  readonly cost: number;
  readonly blockSize: number;
  readonly parallelism: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/**
 * @internal Parses a stored hash.
 * @throws ConfigurationError (`CONFIG_INVALID`) when it is not one {@link hashConsoleSecret} makes.
 */
export function parseSecretHash(hash: string, where: string, field = 'secretHash'): ParsedSecretHash {
  const match = typeof hash === 'string' ? HASH_PATTERN.exec(hash) : null;
  const cost = Number(match?.[1]);
  const blockSize = Number(match?.[2]);
  const parallelism = Number(match?.[3]);
  const valid =
    match !== null &&
    cost >= 2 &&
    cost <= MAX_COST &&
    (cost & (cost - 1)) === 0 &&
    blockSize >= 1 &&
    parallelism >= 1 &&
    parallelism <= 16 &&
    128 * cost * blockSize <= MAX_MEMORY_BYTES;
  if (!valid) {
    throw new ConfigurationError(
      `${where}: the secret hash must look like scrypt$16384$8$1$<salt>$<key> (make one with ape console --hash-secret).`,
      { field },
    );
  }
  return {
    cost,
    blockSize,
    parallelism,
    salt: Buffer.from(match[4] ?? '', 'base64url'),
    key: Buffer.from(match[5] ?? '', 'base64url'),
  };
}

/**
 * @internal True when `secret` hashes to `hash` (compared in constant time). Never rejects: a
 * failure of scrypt is a refusal.
 */
export function verifySecret(secret: string, hash: ParsedSecretHash): Promise<boolean> {
  return new Promise((resolve) => {
    scrypt(
      secret,
      hash.salt,
      KEY_BYTES,
      { N: hash.cost, r: hash.blockSize, p: hash.parallelism, maxmem: MAX_MEMORY_BYTES + 1024 * 1024 },
      (error, key) => {
        resolve(error === null && key.length === hash.key.length && timingSafeEqual(key, hash.key));
      },
    );
  });
}
