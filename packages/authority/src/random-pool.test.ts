import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hexOfEight, randomFingerprint, randomHex } from './random-pool.js';

describe('random pool', () => {
  it('writes eight bytes as the same hex digits as Buffer does, and zeroes them when asked (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 24 }),
        fc.nat(16),
        fc.boolean(),
        (bytes, at, zero) => {
          const start = at % (bytes.length - 7);
          const source = Uint8Array.from(bytes);
          const expected = Buffer.from(bytes.subarray(start, start + 8)).toString('hex');
          expect(hexOfEight(source, start, zero)).toBe(expected);
          for (let index = 0; index < source.length; index++) {
            const inside = index >= start && index < start + 8;
            expect(source[index]).toBe(zero && inside ? 0 : bytes[index]);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never hands out the same bytes twice, across refills of the 64 KiB pool', () => {
    // 12,000 draws of 8 and 32 bytes are more than 64 KiB: the pool is refilled at least once.
    const seen = new Set<string>();
    for (let draw = 0; draw < 6_000; draw++) {
      const fingerprint = randomFingerprint();
      const id = randomHex(32);
      expect(fingerprint).toMatch(/^[0-9a-f]{16}$/);
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      seen.add(fingerprint);
      seen.add(id);
    }
    expect(seen.size).toBe(12_000);
  });
});
