import { sha256 } from '@ape/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tokenFingerprint } from './fingerprint.js';

describe('tokenFingerprint', () => {
  afterEach(() => {
    vi.doUnmock('node:crypto');
    vi.resetModules();
  });

  it('is the first 16 hex digits of sha256 of the prefixed id', () => {
    expect(tokenFingerprint('abc')).toBe(sha256('ape-token-fingerprint:abc').slice(0, 16));
    expect(tokenFingerprint('abc')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('differs for different ids', () => {
    expect(tokenFingerprint('a')).not.toBe(tokenFingerprint('b'));
  });

  it('gives the same fingerprint on a Node without crypto.hash (before 20.12)', async () => {
    vi.resetModules();
    vi.doMock('node:crypto', async (importOriginal) => ({
      ...(await importOriginal<typeof import('node:crypto')>()),
      hash: undefined,
    }));
    const fallback = await import('./fingerprint.js');
    expect(fallback.tokenFingerprint).not.toBe(tokenFingerprint);
    expect(fallback.tokenFingerprint('abc')).toBe(sha256('ape-token-fingerprint:abc').slice(0, 16));
    expect(fallback.tokenFingerprint('abc')).toBe(tokenFingerprint('abc'));
  });
});
