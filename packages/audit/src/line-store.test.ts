import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineStore } from './line-store.js';

function storeOf(lines: readonly string[]): LineStore {
  const store = new LineStore();
  for (const line of lines) store.push(line);
  return store;
}

describe('LineStore', () => {
  it('reads back every line as added, in ASCII and in several-byte UTF-8', () => {
    const lines = ['{"a":1}', '', 'é', '日本語', 'emoji 😀 pair', '\u0000\u007f\u0080\u07ff\u0800\uffff'];
    const store = storeOf(lines);
    expect(store.length).toBe(lines.length);
    expect(lines.map((_, index) => store.at(index))).toEqual(lines);
    expect(store.slice()).toEqual(lines);
    expect(store.slice(4)).toEqual(lines.slice(4));
  });

  it('answers undefined outside the lines, and an empty slice past the end', () => {
    const store = storeOf(['a', 'b']);
    for (const index of [-1, 2, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(store.at(index)).toBeUndefined();
    }
    expect(store.slice(2)).toEqual([]);
    expect(store.slice(-3)).toEqual(['a', 'b']);
    expect(new LineStore().slice()).toEqual([]);
  });

  it('keeps lines across chunks: many lines, growing chunks, and a line larger than any chunk', () => {
    const lines: string[] = [];
    for (let index = 0; index < 20_000; index++) {
      lines.push(`{"seq":${index},"text":"${'é'.repeat(index % 97)}${'x'.repeat(index % 61)}"}`);
    }
    // Larger than the largest chunk (1 MiB), in two-byte characters, then small lines after it.
    lines.push('ü'.repeat(600_000), 'after', 'ß'.repeat(1_000));
    const store = storeOf(lines);
    expect(store.length).toBe(lines.length);
    expect(store.slice()).toEqual(lines);
    expect(store.at(20_000)).toBe(lines[20_000]);
    expect(store.at(20_001)).toBe('after');
  });

  it('reads back any well-formed text exactly (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { maxLength: 60 }), (lines) => {
        const store = storeOf(lines);
        expect(store.slice()).toEqual(lines);
        expect(lines.every((line, index) => store.at(index) === line)).toBe(true);
      }),
    );
  });

  it('reads a lone surrogate back as U+FFFD, as UTF-8 stores it (canonical JSON escapes them)', () => {
    expect(storeOf(['a\ud800b']).at(0)).toBe('a\ufffdb');
  });

  it('allocates 4 KiB first, doubles each next chunk up to 1 MiB, and fills a chunk to its last byte', () => {
    const store = new LineStore();
    expect(store.capacity).toBe(0);
    store.push('a');
    expect(store.capacity).toBe(4 * 1024);
    // 4,095 more bytes fill the first chunk exactly: no new chunk.
    store.push('b'.repeat(4 * 1024 - 1));
    expect(store.capacity).toBe(4 * 1024);
    store.push('c');
    expect(store.capacity).toBe(12 * 1024);
    // Chunks of 16 KiB to 512 KiB, then 1 MiB and no larger.
    const sizes = [4, 8];
    for (const size of [16, 32, 64, 128, 256, 512, 1024, 1024]) {
      store.push('d'.repeat(size * 1024 - 1));
      sizes.push(size);
      expect(store.capacity).toBe(sizes.reduce((sum, each) => sum + each, 0) * 1024);
    }
    // A line larger than 1 MiB gets a chunk of exactly its size.
    const before = store.capacity;
    store.push('e'.repeat(1024 * 1024 + 5));
    expect(store.capacity).toBe(before + 1024 * 1024 + 5);
    expect(store.at(0)).toBe('a');
    expect(store.at(2)).toBe('c');
    expect(store.at(store.length - 1)).toHaveLength(1024 * 1024 + 5);
  });
});
