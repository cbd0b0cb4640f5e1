import type { LineCounter } from 'yaml';
import type { SourceMap } from './limits.js';
import type { PolicyFinding } from './types.js';

/** @internal The result of reading policy text, YAML or JSON. */
export type ReadResult =
  | { readonly ok: true; readonly value: unknown; readonly sourceMap: SourceMap }
  | { readonly ok: false; readonly findings: readonly PolicyFinding[] };

/**
 * @internal Where each value and key of a policy text starts: object members, keys
 * (`path + '#key'`) and the root by JSON path; array entries by their array's path and index, so a
 * list of 100,000 rules costs one array of numbers, not 100,000 path strings in a map. Filled by
 * both readers (YAML and JSON).
 */
export class Offsets {
  readonly byPath = new Map<string, number>();
  readonly entries = new Map<string, number[]>();

  offsetOf(path: string): number | undefined {
    const direct = this.byPath.get(path);
    if (direct !== undefined || path.charCodeAt(path.length - 1) !== 0x5d) return direct;
    // `…[index]` is an array entry (a key in brackets is quoted: `["x-y"]`, never digits alone).
    const open = path.lastIndexOf('[');
    const index = path.slice(open + 1, -1);
    if (open < 0 || !/^(?:0|[1-9][0-9]*)$/.test(index)) return undefined;
    return this.entries.get(path.slice(0, open))?.[Number(index)];
  }
}

/**
 * @internal Adds to `counter` where each line of `text` starts, up to offset `end`: the first line
 * too (at 0), as the YAML parser does, so that an offset on the first line is on line 1.
 */
export function addLineStarts(counter: LineCounter, text: string, end = text.length): LineCounter {
  counter.addNewLine(0);
  for (let index = text.indexOf('\n'); index !== -1 && index < end; index = text.indexOf('\n', index + 1)) {
    counter.addNewLine(index + 1);
  }
  return counter;
}

/** @internal The line and column (both from 1) of `offset`. */
export function positionOf(counter: LineCounter, offset: number): { line: number; column: number } {
  const position = counter.linePos(offset);
  return { line: position.line, column: position.col };
}

/**
 * @internal A value read without problems, with its source map: the offset of a JSON path turned
 * into a line and column when asked.
 */
export function readValue(value: unknown, offsets: Offsets, lines: LineCounter): ReadResult {
  return {
    ok: true,
    value,
    sourceMap: {
      locate(path) {
        const offset = offsets.offsetOf(path);
        return offset === undefined ? undefined : positionOf(lines, offset);
      },
    },
  };
}
