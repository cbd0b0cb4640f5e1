import { sha256 } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { tokenFingerprint } from './fingerprint.js';

describe('tokenFingerprint', () => {
  it('is the first 16 hex digits of sha256 of the prefixed id', () => {
    expect(tokenFingerprint('abc')).toBe(sha256('ape-token-fingerprint:abc').slice(0, 16));
    expect(tokenFingerprint('abc')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('differs for different ids', () => {
    expect(tokenFingerprint('a')).not.toBe(tokenFingerprint('b'));
  });
});
