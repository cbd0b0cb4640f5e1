import { messageOf } from '@ape/core';
import type { RE2JS } from 're2js';
import { re2 } from './lazy-modules.js';

/** Longest `pattern` accepted in an argument schema. */
export const MAX_PATTERN_LENGTH = 256;

/** Largest compiled RE2 program accepted: bounds the per-character cost of a match. */
const MAX_PROGRAM_SIZE = 20_000;

/**
 * What ECMAScript's `\s` matches (WhiteSpace and LineTerminator), as RE2 class items. RE2's own
 * `\s` is ASCII only, so it is never passed through.
 */
const WHITESPACE_ITEMS =
  '\\x{9}-\\x{D}\\x{20}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}';
/** What ECMAScript's `.` matches without the `s` flag: anything but a line terminator. */
const DOT = '[^\\x{A}\\x{D}\\x{2028}\\x{2029}]';
const HEX = /^[0-9A-Fa-f]+$/;
/** `\p{…}` forms with the same meaning in ECMAScript and RE2: a general category or a script. */
const GENERAL_CATEGORY = /^(?:General_Category=|gc=)?([A-Z][a-z]?)$/;
const SCRIPT = /^(?:Script|sc)=([A-Z][A-Za-z_]*)$/;

/** Why a pattern is refused; thrown inside the translator, caught at its door. */
class Refused extends Error {}

/**
 * @internal A policy regular expression compiled for the linear-time engine (RE2, `re2js`).
 * It has the `test` method ajv calls; matching takes time linear in the input, whatever the
 * pattern, so no argument can stall `evaluate`.
 */
export class LinearRegExp {
  readonly source: string;
  readonly #program: RE2JS;
  /** The pattern's text when it is a plain literal (see {@link literalOf}): matched without RE2. */
  readonly #literal: Literal | undefined;

  /** @throws Error when the pattern is refused; the message says why (see {@link unsafePatternReason}). */
  constructor(source: string) {
    const translated = translate(source);
    this.source = source;
    try {
      this.#program = re2().compile(translated);
    } catch (error) {
      throw new Refused(
        `the linear-time engine cannot compile it (${(error as Error).message}); repetition counts are limited to 1000`,
      );
    }
    if (this.#program.programSize() > MAX_PROGRAM_SIZE) {
      throw new Refused(
        `its compiled form is larger than ${MAX_PROGRAM_SIZE} instructions; use smaller repetition counts`,
      );
    }
    this.#literal = literalOf(source);
  }

  /** Whether the pattern matches somewhere in `input` (the search semantics of `RegExp.prototype.test`). */
  test(input: string): boolean {
    const literal = this.#literal;
    if (literal === undefined) return this.#program.test(input);
    switch (literal.anchors) {
      case 'start':
        return input.startsWith(literal.text);
      case 'end':
        return input.endsWith(literal.text);
      case 'both':
        return input === literal.text;
      default:
        return input.includes(literal.text);
    }
  }

  toString(): string {
    return `/${this.source}/u`;
  }
}

/** @internal A pattern that matches one fixed text: where it must sit in the input, and the text. */
export interface Literal {
  readonly anchors: 'start' | 'end' | 'both' | 'none';
  readonly text: string;
}

/** The characters with a meaning in an ECMAScript pattern outside a class. */
const SPECIAL_CHARACTERS = '^$\\.*+?()[]{}|';
/** What a `u` pattern may escape to stand for itself (its syntax characters and `/`). */
const ESCAPABLE_CHARACTERS = '^$\\.*+?()[]{}|/';

/**
 * @internal The fixed text a pattern matches, when it is nothing but literal characters (none of
 * {@link SPECIAL_CHARACTERS} unescaped, no escape but of {@link ESCAPABLE_CHARACTERS}, no
 * surrogate), optionally anchored by a
 * leading `^` and a trailing `$` (without the `m` flag, `^` and `$` match only at the ends of the
 * input). Matching it is then `startsWith`, `endsWith`, `===` or `includes`, exactly what the
 * pattern matches (property-tested against `RegExp` with the `u` flag); anything else returns
 * `undefined` and runs on RE2.
 */
export function literalOf(source: string): Literal | undefined {
  let index = 0;
  let end = source.length;
  const start = source.charCodeAt(0) === 0x5e;
  if (start) index = 1;
  // A trailing `$` anchors unless it is escaped (an odd run of backslashes before it).
  let anchoredEnd = false;
  if (end > index && source.charCodeAt(end - 1) === 0x24) {
    let backslashes = 0;
    while (end - 2 - backslashes >= index && source.charCodeAt(end - 2 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) {
      anchoredEnd = true;
      end -= 1;
    }
  }
  let text = '';
  while (index < end) {
    const code = source.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdfff) return undefined;
    if (code === 0x5c) {
      const next = source[index + 1];
      if (next === undefined || index + 1 >= end || !ESCAPABLE_CHARACTERS.includes(next)) return undefined;
      text += next;
      index += 2;
      continue;
    }
    if (SPECIAL_CHARACTERS.includes(source[index]!)) return undefined;
    text += source[index];
    index += 1;
  }
  const anchors = start ? (anchoredEnd ? 'both' : 'start') : anchoredEnd ? 'end' : 'none';
  return { anchors, text };
}

/**
 * @internal The ajv `code.regExp` factory: every `pattern` and `patternProperties` key an APE ajv
 * instance compiles runs on {@link LinearRegExp}. ajv passes `u` (the policy dialect is ECMAScript
 * with the `u` flag); any other flag is refused rather than ignored.
 */
export const linearRegExp = Object.assign(
  (pattern: string, flags: string): LinearRegExp => {
    if (flags !== 'u') throw new Error(`policy patterns use the u flag only, not "${flags}"`);
    return new LinearRegExp(pattern);
  },
  { code: 'apeLinearRegExp' },
);

/**
 * @internal Why a regular expression from a policy is refused, or `undefined` when it is accepted.
 *
 * The ReDoS stance: every policy pattern runs on RE2 (`re2js`), whose matching time is linear in
 * the input, so no pattern can be catastrophic. The pattern is written in the ECMAScript `u`
 * dialect and translated so that it matches exactly what `new RegExp(pattern, 'u')` would (`\s`,
 * `.`, `\u…` and empty classes are rewritten). Refused: patterns longer than
 * {@link MAX_PATTERN_LENGTH}, invalid ECMAScript, and constructs RE2 cannot run in linear time
 * (backreferences, lookahead, lookbehind) or that it reads differently (`\S` inside a class,
 * long Unicode property names); the reason says what to write instead.
 */
export function unsafePatternReason(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    new LinearRegExp(pattern);
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
}

/** Translates an ECMAScript `u` pattern into RE2 syntax with the same matches. @throws Refused */
function translate(pattern: string): string {
  try {
    // Compiling is safe (only matching backtracks); this settles the ECMAScript syntax.
    new RegExp(pattern, 'u');
  } catch (error) {
    throw new Refused(`not a valid ECMAScript regular expression: ${(error as Error).message}`);
  }
  let out = '';
  let index = 0;
  const length = pattern.length;
  while (index < length) {
    const character = pattern[index]!;
    if (character === '\\') {
      const [text, next] = translateEscape(pattern, index, false);
      out += text;
      index = next;
    } else if (character === '[') {
      const [text, next] = translateClass(pattern, index);
      out += text;
      index = next;
    } else if (character === '(') {
      const [text, next] = translateGroup(pattern, index);
      out += text;
      index = next;
    } else if (character === '.') {
      out += DOT;
      index += 1;
    } else {
      out += character;
      index += 1;
    }
  }
  return out;
}

function translateGroup(pattern: string, index: number): [string, number] {
  if (pattern[index + 1] !== '?') return ['(?:', index + 1];
  const rest = pattern.slice(index + 2, index + 4);
  if (rest.startsWith(':')) return ['(?:', index + 3];
  if (rest.startsWith('=') || rest.startsWith('!') || rest === '<=' || rest === '<!') {
    throw new Refused(
      'lookahead and lookbehind cannot run in linear time; match the text itself, or split the condition into several properties or rules',
    );
  }
  if (rest.startsWith('<')) {
    const close = pattern.indexOf('>', index);
    return ['(?:', close + 1];
  }
  throw new Refused(`the group syntax at character ${index} is not accepted; use (…) or (?:…)`);
}

/** The code points (hex) of the one-letter control escapes (`\t` is U+9). */
const CONTROL_ESCAPES: ReadonlyMap<string | undefined, string> = new Map([
  ['t', '9'],
  ['n', 'A'],
  ['v', 'B'],
  ['f', 'C'],
  ['r', 'D'],
  ['0', '0'],
]);

/** Translates one escape at `index`; inside a class `\b` is a backspace and classes are inlined. */
function translateEscape(pattern: string, index: number, inClass: boolean): [string, number] {
  const letter = pattern[index + 1];
  const control = CONTROL_ESCAPES.get(letter);
  if (control !== undefined) return [`\\x{${control}}`, index + 2];
  switch (letter) {
    case undefined:
      throw new Refused('a pattern cannot end with a backslash');
    case 'd':
    case 'D':
    case 'w':
    case 'W':
      return [`\\${letter}`, index + 2];
    case 'b':
    case 'B':
      return inClass ? (letter === 'b' ? ['\\x{8}', index + 2] : refuse('\\B')) : [`\\${letter}`, index + 2];
    case 's':
      return [inClass ? WHITESPACE_ITEMS : `[${WHITESPACE_ITEMS}]`, index + 2];
    case 'S':
      if (inClass) {
        throw new Refused(
          '\\S inside a character class is not accepted; write the class without it, or use [^\\s…]',
        );
      }
      return [`[^${WHITESPACE_ITEMS}]`, index + 2];
    case 'c':
      return [`\\x{${(pattern.charCodeAt(index + 2) % 32).toString(16)}}`, index + 3];
    case 'x':
      return [`\\x{${pattern.slice(index + 2, index + 4)}}`, index + 4];
    case 'u':
      return translateUnicodeEscape(pattern, index);
    case 'p':
    case 'P':
      return translateProperty(pattern, index, letter);
    case 'k':
      throw new Refused(
        'backreferences cannot run in linear time; match the repeated text with its own pattern',
      );
    default:
      if (letter >= '1' && letter <= '9') {
        throw new Refused(
          'backreferences cannot run in linear time; match the repeated text with its own pattern',
        );
      }
      // In the u dialect only syntax characters, `/` and (in classes) `-` can be escaped here.
      return [`\\${letter}`, index + 2];
  }
}

function refuse(what: string): never {
  throw new Refused(`${what} is not accepted inside a character class`);
}

function translateUnicodeEscape(pattern: string, index: number): [string, number] {
  if (pattern[index + 2] === '{') {
    const close = pattern.indexOf('}', index);
    const hex = pattern.slice(index + 3, close);
    if (!HEX.test(hex)) throw new Refused(`invalid \\u{…} escape at character ${index}`);
    return [`\\x{${hex}}`, close + 1];
  }
  const code = Number.parseInt(pattern.slice(index + 2, index + 6), 16);
  const next = index + 6;
  // A surrogate pair written as two escapes is one code point in the u dialect.
  if (code >= 0xd800 && code <= 0xdbff && pattern.startsWith('\\u', next)) {
    const low = Number.parseInt(pattern.slice(next + 2, next + 6), 16);
    if (low >= 0xdc00 && low <= 0xdfff) {
      const codePoint = (code - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
      return [`\\x{${codePoint.toString(16)}}`, next + 6];
    }
  }
  if (code >= 0xd800 && code <= 0xdfff) {
    throw new Refused('lone surrogate escapes are not accepted; write the code point as \\u{…}');
  }
  return [`\\x{${code.toString(16)}}`, next];
}

function translateProperty(pattern: string, index: number, letter: 'p' | 'P'): [string, number] {
  const close = pattern.indexOf('}', index);
  const name = pattern.slice(index + 3, close);
  const category = GENERAL_CATEGORY.exec(name)?.[1] ?? SCRIPT.exec(name)?.[1];
  if (category === undefined) {
    throw new Refused(
      `the Unicode property \\${letter}{${name}} is not accepted; use a general category abbreviation such as \\p{L} or \\p{Lu}, or \\p{Script=Greek}`,
    );
  }
  return [`\\${letter}{${category}}`, close + 1];
}

function translateClass(pattern: string, index: number): [string, number] {
  let cursor = index + 1;
  const negated = pattern[cursor] === '^';
  if (negated) cursor += 1;
  if (pattern[cursor] === ']') {
    // `[]` never matches and `[^]` matches anything; RE2 would read `]` as a member instead.
    return [negated ? '[\\x{0}-\\x{10FFFF}]' : '[^\\x{0}-\\x{10FFFF}]', cursor + 1];
  }
  let out = negated ? '[^' : '[';
  while (pattern[cursor] !== ']') {
    const character = pattern[cursor]!;
    if (character === '\\') {
      const [text, next] = translateEscape(pattern, cursor, true);
      out += text;
      cursor = next;
    } else if (character === '[' || character === '^' || character === '.') {
      // RE2 reads `[:alpha:]` as a POSIX class; ECMAScript reads these characters literally.
      out += `\\${character}`;
      cursor += 1;
    } else {
      out += character;
      cursor += 1;
    }
  }
  return [`${out}]`, cursor + 1];
}
