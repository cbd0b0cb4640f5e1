import { Lexer, LineCounter } from 'yaml';
import { childPath, FORBIDDEN_KEYS } from './findings.js';
import { addLineStarts, Offsets, type ReadResult, readValue } from './source-offsets.js';
import type { PolicyLimits } from './types.js';

/**
 * @internal A quick reader for the common shape of a policy file: block mappings and block
 * sequences of one-line scalars, with comments and blank lines. It reads the tokens of `yaml`'s own
 * `Lexer` (so where a scalar, a comment or an indicator starts and ends is decided by the `yaml`
 * package, as on the full path) and builds the plain JSON and its source offsets directly, without
 * the parser's token tree and the composer's document, which are most of the time and memory of
 * loading a large policy.
 *
 * It answers only for text it reads exactly as the full path does, and declines (returns
 * `undefined`) for everything else, so the full path reads that text and reports its findings:
 * flow collections, anchors, aliases, tags, block scalars, explicit keys, document markers,
 * directives, a byte-order mark, tabs in indentation or separation, scalars over one line, escapes
 * in double quotes, characters outside printable ASCII in a scalar, empty values, plain scalars that
 * the core schema does not read as a plain string, null, a boolean or a simple number (hex, octal,
 * exponents, leading zeros, infinities; a plain string must start with a letter or one of
 * `_/^$(<=`), keys that are not strings, duplicate keys, prototype keys, and anything over a limit.
 * Declining costs the lexing done so far. It never recurses (an explicit stack of open collections)
 * and reads each token once.
 */
export function readBlockYaml(text: string, limits: PolicyLimits): ReadResult | undefined {
  const reader = new BlockReader(text, limits);
  try {
    reader.read();
  } catch (error) {
    if (error instanceof Decline) return undefined;
    throw error;
  }
  return readValue(reader.root, reader.offsets, addLineStarts(new LineCounter(), text));
}

/** Thrown inside the reader to give the text to the full path. */
class Decline {}
const DECLINE = new Decline();

/** A scalar token of the current line: its text as written and where it starts. */
interface ScalarToken {
  source: string;
  plain: boolean;
  offset: number;
}

/** An open block collection. */
interface Open {
  readonly isSeq: boolean;
  /** The column of its entries' `-` or keys. */
  readonly indent: number;
  readonly path: string;
  /** The depth of its entries' values (the root collection's entries are at depth 1). */
  readonly depth: number;
  readonly value: Record<string, unknown> | unknown[];
  /** Mappings: keys so far. */
  readonly keys: Set<string> | undefined;
  /** Sequences: where each entry starts. */
  readonly entryOffsets: number[] | undefined;
}

/** Where the next collection goes: the root, a mapping's key whose value follows, or a bare `-`. */
interface Slot {
  readonly parent: Open | undefined;
  /** Mappings: the key and its path; sequences: undefined. */
  readonly key: string | undefined;
  readonly path: string;
  /** The lowest column the collection may start at (a sequence under a key may share its column). */
  readonly seqMin: number;
  readonly mapMin: number;
  readonly depth: number;
}

/** Plain scalars the core schema reads as null or a boolean (the empty one is declined, as an empty value). */
const NULL_OR_BOOL = new Map<string, null | boolean>([
  ['~', null],
  ['null', null],
  ['Null', null],
  ['NULL', null],
  ['true', true],
  ['True', true],
  ['TRUE', true],
  ['false', false],
  ['False', false],
  ['FALSE', false],
]);
/**
 * The first characters of plain scalars the core schema reads as strings whatever follows (none
 * starts a number, null or an infinity; the reserved `@` and `` ` `` and the indicators are not here).
 */
const STRING_START = /^[A-Za-z_/^$(<=]/;
/** A plain integer or decimal the core schema reads as the same number `Number` gives (at most 15 digits each side). */
const SIMPLE_NUMBER = /^-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?$/;
/** Longest implicit key the reader takes (the `yaml` package refuses keys over 1024 characters). */
const MAX_KEY = 1000;

class BlockReader {
  readonly offsets = new Offsets();
  /** The document's collection, once its first line is read. */
  root: unknown;
  readonly #text: string;
  readonly #limits: PolicyLimits;
  readonly #stack: Open[] = [];
  #slot: Slot | undefined = { parent: undefined, key: undefined, path: '$', seqMin: 0, mapMin: 0, depth: 0 };
  #nodes = 0;

  // The current line: its start, its first token's offset, its indicators and scalars.
  #lineStart = 0;
  #first = -1;
  #dash = false;
  #colon = -1;
  /** The line's scalars: a key and its value, or one entry. */
  readonly #scalars: ScalarToken[] = [
    { source: '', plain: false, offset: 0 },
    { source: '', plain: false, offset: 0 },
  ];
  #scalarCount = 0;
  #afterComment = false;
  /** Whether the last token was white space or a line's end (or there was none). */
  #spaced = true;

  constructor(text: string, limits: PolicyLimits) {
    this.#text = text;
    this.#limits = limits;
  }

  /** Reads the whole text into `root`; throws {@link DECLINE} when it must go to the full path. */
  read(): void {
    let offset = 0;
    let plainNext = false;
    let documentStarted = false;
    for (const token of new Lexer().lex(this.#text)) {
      const code = token.charCodeAt(0);
      if (code === 0x02 && token.length === 1) {
        // The lexer marks where the document starts (after leading comments and blank lines), once.
        if (documentStarted || this.root !== undefined || this.#first !== -1) throw DECLINE;
        documentStarted = true;
        continue;
      }
      if (code === 0x1f && token.length === 1) {
        plainNext = true;
        continue;
      }
      // A scalar or a comment must be the first on its line or follow white space.
      const spaced = this.#spaced;
      this.#spaced = false;
      if (plainNext) {
        plainNext = false;
        if (!spaced) throw DECLINE;
        this.#scalar(token, true, offset);
      } else if (code === 0x0a || (code === 0x0d && token === '\r\n')) {
        this.#endLine(offset + token.length);
      } else if (code === 0x20) {
        if (!onlySpaces(token)) throw DECLINE;
        this.#spaced = true;
      } else if (code === 0x22 || code === 0x27) {
        if (!spaced) throw DECLINE;
        this.#scalar(token, false, offset);
      } else if (code === 0x2d && token.length === 1) {
        if (this.#first !== -1 || this.#afterComment) throw DECLINE;
        this.#first = offset;
        this.#dash = true;
      } else if (code === 0x3a && token.length === 1) {
        if (this.#scalarCount !== 1 || this.#colon !== -1 || this.#afterComment) throw DECLINE;
        this.#colon = offset;
      } else if (code === 0x23) {
        if (!spaced) throw DECLINE;
        this.#afterComment = true;
      } else {
        throw DECLINE;
      }
      offset += token.length;
    }
    if (plainNext) throw DECLINE;
    this.#endLine(offset);
    // A value still to come: an empty value at the end, or no collection at all.
    if (this.#slot !== undefined) throw DECLINE;
  }

  #scalar(source: string, plain: boolean, offset: number): void {
    if (this.#afterComment || this.#scalarCount === 2) throw DECLINE;
    // A key's scalar comes first; a value's comes after the colon (a second scalar before it is not a key).
    if (this.#scalarCount === 1 && this.#colon === -1) throw DECLINE;
    if (this.#first === -1) this.#first = offset;
    const slot = this.#scalars[this.#scalarCount]!;
    slot.source = source;
    slot.plain = plain;
    slot.offset = offset;
    this.#scalarCount += 1;
  }

  /** Places the line that ends at `next` (the offset after its newline). */
  #endLine(next: number): void {
    const first = this.#first;
    if (first !== -1) this.#place(first - this.#lineStart);
    this.#lineStart = next;
    this.#first = -1;
    this.#dash = false;
    this.#colon = -1;
    this.#scalarCount = 0;
    this.#afterComment = false;
    this.#spaced = true;
  }

  #place(column: number): void {
    const dash = this.#dash;
    const hasColon = this.#colon !== -1;
    const count = this.#scalarCount;
    // Shapes: `- S`, `-`, `- K: S`, `- K:`, `K: S`, `K:` (the colon only ever follows one scalar).
    if (!dash && !hasColon) throw DECLINE;
    if (dash && !hasColon && count > 1) throw DECLINE;
    const container = this.#containerFor(column, dash);
    if (!dash) {
      this.#mapEntry(container, column);
      return;
    }
    const offsets = container.entryOffsets!;
    const entries = container.value as unknown[];
    const index = offsets.length;
    this.#checkEntries(index + 1);
    if (hasColon) {
      // `- K: …`: a mapping whose keys sit at the key's column, as the entry.
      const key = this.#scalars[0]!;
      const keyColumn = key.offset - this.#lineStart;
      const map = this.#open(false, keyColumn, childPath(container.path, index), container.depth);
      offsets.push(key.offset);
      entries.push(map.value);
      this.#mapEntry(map, keyColumn);
    } else if (count === 1) {
      const scalar = this.#scalars[0]!;
      offsets.push(scalar.offset);
      entries.push(this.#value(scalar, container.depth));
    } else {
      // A bare `-`: the entry is the collection on the lines below, indented further.
      offsets.push(-1);
      entries.push(null);
      this.#slot = {
        parent: container,
        key: undefined,
        path: childPath(container.path, index),
        seqMin: column + 1,
        mapMin: column + 1,
        depth: container.depth,
      };
    }
  }

  /** The open collection a line at `column` continues, or a new one in the pending slot. */
  #containerFor(column: number, isSeq: boolean): Open {
    const slot = this.#slot;
    if (slot !== undefined) {
      if (column < (isSeq ? slot.seqMin : slot.mapMin)) throw DECLINE;
      this.#slot = undefined;
      const open = this.#open(isSeq, column, slot.path, slot.depth);
      const parent = slot.parent;
      if (parent === undefined) {
        this.root = open.value;
        this.offsets.byPath.set('$', this.#first);
      } else if (slot.key !== undefined) {
        (parent.value as Record<string, unknown>)[slot.key] = open.value;
        this.offsets.byPath.set(slot.path, this.#first);
      } else {
        const entries = parent.value as unknown[];
        entries[entries.length - 1] = open.value;
        parent.entryOffsets![parent.entryOffsets!.length - 1] = this.#first;
      }
      return open;
    }
    const stack = this.#stack;
    let top = stack[stack.length - 1];
    while (top !== undefined && (top.indent > column || (top.indent === column && top.isSeq && !isSeq))) {
      stack.pop();
      top = stack[stack.length - 1];
    }
    if (top === undefined || top.indent !== column || top.isSeq !== isSeq) throw DECLINE;
    return top;
  }

  #open(isSeq: boolean, indent: number, path: string, depth: number): Open {
    // The full path refuses a collection at depth d when d + 1 is over the limit, and counts it as a value.
    if (depth + 1 > this.#limits.maxDepth) throw DECLINE;
    this.#countNode();
    const open: Open = {
      isSeq,
      indent,
      path,
      depth: depth + 1,
      value: isSeq ? [] : (Object.create(null) as Record<string, unknown>),
      keys: isSeq ? undefined : new Set(),
      entryOffsets: isSeq ? [] : undefined,
    };
    if (isSeq) this.offsets.entries.set(path, open.entryOffsets!);
    this.#stack.push(open);
    return open;
  }

  /** `K: S` or `K:` of the current line, the key's scalar first, at `column` in `map`. */
  #mapEntry(map: Open, column: number): void {
    const keyToken = this.#scalars[0]!;
    if (this.#colon - keyToken.offset > MAX_KEY) throw DECLINE;
    const key = scalarValue(keyToken);
    const keys = map.keys!;
    if (typeof key !== 'string' || FORBIDDEN_KEYS.has(key) || keys.has(key)) throw DECLINE;
    this.#checkEntries(keys.size + 1);
    keys.add(key);
    const path = childPath(map.path, key);
    this.offsets.byPath.set(`${path}#key`, keyToken.offset);
    const values = this.#scalarCount - 1;
    if (values === 1) {
      const scalar = this.#scalars[1]!;
      this.offsets.byPath.set(path, scalar.offset);
      (map.value as Record<string, unknown>)[key] = this.#value(scalar, map.depth);
      return;
    }
    (map.value as Record<string, unknown>)[key] = null;
    this.#slot = { parent: map, key, path, seqMin: column, mapMin: column + 1, depth: map.depth };
  }

  /** A collection may hold `entries` entries (the full path refuses more than the limit). */
  #checkEntries(entries: number): void {
    if (entries > this.#limits.maxKeysPerMapping) throw DECLINE;
  }

  #countNode(): void {
    this.#nodes += 1;
    if (this.#nodes > this.#limits.maxNodes) throw DECLINE;
  }

  /** A scalar value at `depth`, counted as a value. */
  #value(token: ScalarToken, depth: number): unknown {
    if (depth > this.#limits.maxDepth) throw DECLINE;
    this.#countNode();
    return scalarValue(token);
  }
}

/**
 * The value of a one-line scalar as the core schema reads it: a string, null, a boolean or a simple
 * number; a decline for anything else.
 */
function scalarValue(token: ScalarToken): unknown {
  const source = token.source;
  if (token.plain) {
    if (!printable(source, 0, source.length)) throw DECLINE;
    const special = NULL_OR_BOOL.get(source);
    if (special !== undefined) return special;
    if (STRING_START.test(source)) return source;
    if (SIMPLE_NUMBER.test(source)) return Number(source);
    throw DECLINE;
  }
  const quote = source.charCodeAt(0);
  const end = source.length - 1;
  if (end < 1 || source.charCodeAt(end) !== quote || !printable(source, 1, end)) throw DECLINE;
  if (quote === 0x22) {
    if (source.indexOf('\\') !== -1) throw DECLINE;
    return source.slice(1, end);
  }
  // Single quotes: a quote inside is written twice.
  let value = '';
  let from = 1;
  for (let index = source.indexOf("'", 1); index < end; index = source.indexOf("'", index + 2)) {
    if (source.charCodeAt(index + 1) !== 0x27 || index + 1 >= end) throw DECLINE;
    value += source.slice(from, index + 1);
    from = index + 2;
  }
  return value + source.slice(from, end);
}

function onlySpaces(token: string): boolean {
  for (let index = 0; index < token.length; index++) if (token.charCodeAt(index) !== 0x20) return false;
  return true;
}

/** Whether `text[from, to)` is printable ASCII (space to tilde). */
function printable(text: string, from: number, to: number): boolean {
  for (let index = from; index < to; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code > 0x7e) return false;
  }
  return true;
}
