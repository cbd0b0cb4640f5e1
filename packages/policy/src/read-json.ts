import { LineCounter } from 'yaml';
import { childPath, FORBIDDEN_KEYS } from './findings.js';
import { addLineStarts, Offsets, positionOf, type ReadResult, readValue } from './source-offsets.js';
import type { PolicyFinding, PolicyLimits } from './types.js';

/** RFC 8259 number grammar, anchored at the sticky position. */
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** A string's raw text up to its closing quote or the first character that needs a closer look. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: stopping at control characters is this pattern's job (JSON forbids them raw).
const PLAIN_CHARACTERS = /[^"\\\u0000-\u001f]*/y;

/** One escape after a backslash: a one-character escape or `u` and four hex digits. */
const ESCAPE = /["\\/bfnrt]|u[0-9A-Fa-f]{4}/y;

/** An object or array being read, with what the reader needs to go on after its next value. */
interface Frame {
  readonly container: Record<string, unknown> | unknown[];
  readonly isArray: boolean;
  readonly path: string;
  /** Objects: the keys read so far and where each was written (for a duplicate's message). */
  readonly keys: Map<string, number> | undefined;
  /** Objects: the key whose value is being read; `undefined` when it is refused (the value is read and dropped). */
  key: string | undefined;
  entries: number;
  /** Arrays: where each entry starts (entries are placed by index, without a path string each). */
  readonly entryOffsets: number[] | undefined;
}

/** Thrown inside the reader to stop at the first problem; turned into one finding. */
class Stop {
  constructor(
    readonly code: string,
    readonly message: string,
    readonly offset: number,
    readonly path: string | undefined,
  ) {}
}

/**
 * @internal Reads a JSON policy (RFC 8259: one object; no comments, trailing commas, single
 * quotes or unquoted keys) into plain JSON whose objects have no prototype, with the same checks as
 * the YAML reader: duplicate keys (compared after escapes are decoded), prototype keys, finite
 * numbers, and the depth, entries-per-collection and value-count limits. It never recurses (an
 * explicit stack of open collections), so no input can exhaust the call stack, and it reads the
 * text once. A leading byte-order mark is skipped. Positions are the offsets of values and keys,
 * turned into lines and columns only when asked.
 */
export function readJsonText(text: string, file: string | undefined, limits: PolicyLimits): ReadResult {
  const offsets = new Offsets();
  const lines = addLineStarts(new LineCounter(), text);
  const findings: PolicyFinding[] = [];
  const finding = (code: string, message: string, offset: number, path: string | undefined): void => {
    const { line, column } = positionOf(lines, offset);
    findings.push({
      severity: 'error',
      code,
      message,
      ...(file === undefined ? {} : { file }),
      line,
      column,
      ...(path === undefined ? {} : { path }),
    });
  };
  try {
    const value = new JsonReader(text, limits, offsets, lines, finding).read();
    if (findings.length > 0) return { ok: false, findings };
    return readValue(value, offsets, lines);
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    finding(error.code, error.message, error.offset, error.path);
    return { ok: false, findings };
  }
}

class JsonReader {
  #at = 0;
  #values = 0;
  readonly #stack: Frame[] = [];

  constructor(
    private readonly text: string,
    private readonly limits: PolicyLimits,
    private readonly offsets: Offsets,
    private readonly lines: LineCounter,
    /** Records a problem that does not stop the reading (the rest is still checked). */
    private readonly finding: (
      code: string,
      message: string,
      offset: number,
      path: string | undefined,
    ) => void,
  ) {}

  read(): unknown {
    const { text } = this;
    if (text.charCodeAt(0) === 0xfeff) this.#at = 1;
    this.#skipSpace();
    if (text[this.#at] !== '{') {
      throw new Stop('SCHEMA', 'a JSON policy must be one object', this.#at, '$');
    }
    let root: unknown;
    // The path of the value about to be read; `undefined` for an array entry (see #pathOf).
    let path: string | undefined = '$';
    for (;;) {
      // One value, at the reader's position.
      const start = this.#at;
      this.#count(start, path);
      if (path === undefined) ((this.#stack.at(-1) as Frame).entryOffsets as number[]).push(start);
      else this.offsets.byPath.set(path, start);
      const character = text[start];
      let value: unknown;
      let opened = false;
      if (character === '{' || character === '[') {
        const isArray = character === '[';
        const here = this.#pathOf(path);
        if (this.#stack.length + 1 > this.limits.maxDepth) {
          throw new Stop('LIMIT_DEPTH', `nesting deeper than ${this.limits.maxDepth} levels`, start, here);
        }
        const container: Record<string, unknown> | unknown[] = isArray ? [] : Object.create(null);
        value = container;
        this.#at = start + 1;
        this.#skipSpace();
        const entryOffsets = isArray ? [] : undefined;
        if (entryOffsets !== undefined) this.offsets.entries.set(here, entryOffsets);
        const frame: Frame = {
          container,
          isArray,
          path: here,
          keys: isArray ? undefined : new Map(),
          key: undefined,
          entries: 0,
          entryOffsets,
        };
        if (text[this.#at] === (isArray ? ']' : '}')) {
          this.#at += 1;
        } else {
          this.#stack.push(frame);
          path = this.#firstOrNext(frame);
          opened = true;
        }
      } else if (character === '"') {
        value = this.#string();
      } else if (character === '-' || (character !== undefined && character >= '0' && character <= '9')) {
        value = this.#number(path);
      } else {
        value = this.#literal();
      }
      if (opened) continue;
      // The value is complete: attach it, then close every collection that ends here.
      let frame = this.#stack.at(-1);
      if (frame === undefined) {
        root = value;
        break;
      }
      this.#attach(frame, value);
      for (;;) {
        this.#skipSpace();
        const next = text[this.#at];
        if (next === ',') {
          this.#at += 1;
          this.#skipSpace();
          path = this.#firstOrNext(frame);
          break;
        }
        if (next === (frame.isArray ? ']' : '}')) {
          this.#at += 1;
          const closed = this.#stack.pop() as Frame;
          frame = this.#stack.at(-1);
          if (frame === undefined) {
            root = closed.container;
            break;
          }
          this.#attach(frame, closed.container);
          continue;
        }
        throw this.#unexpected(
          frame.isArray ? 'expected "," or "]" after an array entry' : 'expected "," or "}" after a value',
        );
      }
      if (frame === undefined) break;
    }
    this.#skipSpace();
    if (this.#at < text.length) {
      throw new Stop('JSON_SYNTAX', 'unexpected text after the JSON object', this.#at, undefined);
    }
    return root;
  }

  /**
   * Starts the next entry of `frame` (the reader is on it, after `{`, `[` or `,`): reads an
   * object's key and colon, and returns the path of the entry's value (`undefined` in an array).
   */
  #firstOrNext(frame: Frame): string | undefined {
    frame.entries += 1;
    if (frame.entries > this.limits.maxKeysPerMapping) {
      throw new Stop(
        'LIMIT_KEYS',
        `a collection with more than ${this.limits.maxKeysPerMapping} entries (the limit)`,
        this.#at,
        frame.path,
      );
    }
    if (frame.isArray) return undefined;
    const keyAt = this.#at;
    if (this.text[keyAt] !== '"') throw this.#unexpected('expected a key in double quotes');
    const key = this.#string();
    const path = childPath(frame.path, key);
    this.#skipSpace();
    if (this.text[this.#at] !== ':') throw this.#unexpected('expected ":" after a key');
    this.#at += 1;
    this.#skipSpace();
    const keys = frame.keys as Map<string, number>;
    const first = keys.get(key);
    frame.key = undefined;
    if (first !== undefined) {
      const { line } = positionOf(this.lines, first);
      this.finding(
        'DUPLICATE_KEY',
        `the key "${key}" appears twice in this object (first on line ${line}). Keep one.`,
        keyAt,
        path,
      );
    } else {
      keys.set(key, keyAt);
      this.offsets.byPath.set(`${path}#key`, keyAt);
      if (FORBIDDEN_KEYS.has(key)) this.finding('UNKNOWN_KEY', `unknown key "${key}"`, keyAt, path);
      else frame.key = key;
    }
    return path;
  }

  #attach(frame: Frame, value: unknown): void {
    if (frame.isArray) {
      (frame.container as unknown[]).push(value);
    } else if (frame.key !== undefined) {
      Object.defineProperty(frame.container, frame.key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }

  /** The path of the value about to be read: `path`, or for an array entry its array's path and index. */
  #pathOf(path: string | undefined): string {
    if (path !== undefined) return path;
    const frame = this.#stack.at(-1) as Frame;
    return childPath(frame.path, frame.entries - 1);
  }

  #count(offset: number, path: string | undefined): void {
    this.#values += 1;
    if (this.#values > this.limits.maxNodes) {
      throw new Stop('LIMIT_NODES', `more than ${this.limits.maxNodes} values`, offset, this.#pathOf(path));
    }
  }

  /** A string (the reader is on its opening quote); escapes are decoded as `JSON.parse` decodes them. */
  #string(): string {
    const { text } = this;
    const start = this.#at;
    let index = start + 1;
    let escaped = false;
    for (;;) {
      PLAIN_CHARACTERS.lastIndex = index;
      PLAIN_CHARACTERS.test(text);
      index = PLAIN_CHARACTERS.lastIndex;
      const character = text.charCodeAt(index);
      if (character === 0x22) break;
      if (character === 0x5c) {
        ESCAPE.lastIndex = index + 1;
        if (!ESCAPE.test(text)) {
          throw new Stop('JSON_SYNTAX', 'an invalid escape in a string', index, undefined);
        }
        escaped = true;
        index = ESCAPE.lastIndex;
        continue;
      }
      if (Number.isNaN(character))
        throw new Stop('JSON_SYNTAX', 'a string without its closing quote', start, undefined);
      throw new Stop(
        'JSON_SYNTAX',
        'a control character in a string (write it as an escape, such as \\n or \\u0009)',
        index,
        undefined,
      );
    }
    this.#at = index + 1;
    // Every escape was checked above, so JSON.parse of the quoted text cannot fail.
    return escaped ? (JSON.parse(text.slice(start, index + 1)) as string) : text.slice(start + 1, index);
  }

  #number(path: string | undefined): number | null {
    const start = this.#at;
    NUMBER.lastIndex = start;
    if (!NUMBER.test(this.text)) throw new Stop('JSON_SYNTAX', 'an invalid number', start, undefined);
    this.#at = NUMBER.lastIndex;
    const value = Number(this.text.slice(start, this.#at));
    if (!Number.isFinite(value)) {
      this.finding('SCHEMA', 'numbers must be finite', start, this.#pathOf(path));
      return null;
    }
    return value;
  }

  #literal(): boolean | null {
    const { text } = this;
    const start = this.#at;
    if (text.startsWith('true', start)) {
      this.#at = start + 4;
      return true;
    }
    if (text.startsWith('false', start)) {
      this.#at = start + 5;
      return false;
    }
    if (text.startsWith('null', start)) {
      this.#at = start + 4;
      return null;
    }
    throw this.#unexpected('expected a value (an object, array, string, number, true, false or null)');
  }

  #skipSpace(): void {
    const { text } = this;
    let index = this.#at;
    for (;;) {
      const character = text.charCodeAt(index);
      if (character !== 0x20 && character !== 0x0a && character !== 0x0d && character !== 0x09) break;
      index += 1;
    }
    this.#at = index;
  }

  #unexpected(expected: string): Stop {
    const found = this.#at >= this.text.length ? 'the end of the text' : JSON.stringify(this.text[this.#at]);
    return new Stop('JSON_SYNTAX', `${expected}; found ${found}`, this.#at, undefined);
  }
}
