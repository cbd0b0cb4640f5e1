import { smtString } from './smt-text.js';

/** A code-point range, both ends included. */
type Range = readonly [number, number];

const DIGIT: readonly Range[] = [[0x30, 0x39]];
const WORD: readonly Range[] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
const SPACE: readonly Range[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
/** The class escapes by their lower-case letter (`\d`, `\w`, `\s`). */
const CLASS_ESCAPES: ReadonlyMap<string, readonly Range[]> = new Map([
  ['d', DIGIT],
  ['w', WORD],
  ['s', SPACE],
]);
/** The code points of the one-letter control escapes (`\t` is U+9); `\0` is read on its own. */
const CONTROL_ESCAPES: ReadonlyMap<string, number> = new Map([
  ['t', 0x09],
  ['n', 0x0a],
  ['r', 0x0d],
  ['f', 0x0c],
  ['v', 0x0b],
]);
const LINE_TERMINATORS: readonly Range[] = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];

class Unsupported extends Error {}

function charLiteral(code: number): string {
  return smtString(String.fromCodePoint(code));
}

function rangesRegex(ranges: readonly Range[]): string {
  const parts = ranges.map(([low, high]) =>
    low === high ? `(str.to_re ${charLiteral(low)})` : `(re.range ${charLiteral(low)} ${charLiteral(high)})`,
  );
  if (parts.length === 0) return 're.none';
  return parts.length === 1 ? parts[0]! : `(re.union ${parts.join(' ')})`;
}

function negated(regex: string): string {
  return `(re.diff re.allchar ${regex})`;
}

/**
 * Translates an ECMAScript regular expression (the `u`-flag dialect ajv uses for `pattern`) into an
 * SMT-LIB regular expression over whole strings with the same *search* semantics (`test()`): an
 * unanchored pattern may match anywhere. Returns `undefined` for constructs SMT regexes cannot
 * express (lookaround, backreferences, word boundaries, anchors inside groups).
 *
 * @internal
 */
export function regexToSmt(source: string): string | undefined {
  try {
    const parser = new RegexParser(source);
    const result = parser.parseTop();
    return result;
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

class RegexParser {
  private index = 0;

  constructor(private readonly source: string) {}

  parseTop(): string {
    const alternatives: string[] = [];
    for (;;) {
      let anchoredStart = false;
      if (this.peek() === '^') {
        anchoredStart = true;
        this.index += 1;
      }
      const parts = this.parseSequence(true);
      let anchoredEnd = false;
      if (this.peek() === '$') {
        anchoredEnd = true;
        this.index += 1;
      }
      const body =
        parts.length === 0 ? '(str.to_re "")' : parts.length === 1 ? parts[0]! : `(re.++ ${parts.join(' ')})`;
      const pieces = [...(anchoredStart ? [] : ['re.all']), body, ...(anchoredEnd ? [] : ['re.all'])];
      alternatives.push(pieces.length === 1 ? pieces[0]! : `(re.++ ${pieces.join(' ')})`);
      if (this.peek() === '|') {
        this.index += 1;
        continue;
      }
      if (this.index < this.source.length) throw new Unsupported();
      break;
    }
    return alternatives.length === 1 ? alternatives[0]! : `(re.union ${alternatives.join(' ')})`;
  }

  private peek(): string | undefined {
    return this.source[this.index];
  }

  private parseAlternation(): string {
    const alternatives = [this.sequenceRegex(this.parseSequence(false))];
    while (this.peek() === '|') {
      this.index += 1;
      alternatives.push(this.sequenceRegex(this.parseSequence(false)));
    }
    return alternatives.length === 1 ? alternatives[0]! : `(re.union ${alternatives.join(' ')})`;
  }

  private sequenceRegex(parts: readonly string[]): string {
    if (parts.length === 0) return '(str.to_re "")';
    return parts.length === 1 ? parts[0]! : `(re.++ ${parts.join(' ')})`;
  }

  /** Atoms with their quantifiers until `|`, `)` or (at top level) a final `$`. */
  private parseSequence(top: boolean): string[] {
    const parts: string[] = [];
    for (;;) {
      const character = this.peek();
      if (character === undefined || character === '|' || character === ')') return parts;
      if (character === '$') {
        if (top && this.index === this.source.length - 1) return parts;
        throw new Unsupported();
      }
      if (character === '^') throw new Unsupported();
      const atom = this.parseAtom();
      parts.push(this.parseQuantifier(atom));
    }
  }

  private parseQuantifier(atom: string): string {
    const character = this.peek();
    let result = atom;
    if (character === '*') {
      this.index += 1;
      result = `(re.* ${atom})`;
    } else if (character === '+') {
      this.index += 1;
      result = `(re.+ ${atom})`;
    } else if (character === '?') {
      this.index += 1;
      result = `(re.opt ${atom})`;
    } else if (character === '{') {
      const match = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(this.source.slice(this.index));
      if (match === null) throw new Unsupported();
      this.index += match[0].length;
      const low = Number(match[1]);
      if (match[2] === undefined) result = `((_ re.loop ${low} ${low}) ${atom})`;
      else if (match[3] === '') result = `(re.++ ((_ re.loop ${low} ${low}) ${atom}) (re.* ${atom}))`;
      else {
        const high = Number(match[3]);
        if (high < low) throw new Unsupported();
        result = `((_ re.loop ${low} ${high}) ${atom})`;
      }
    } else {
      return atom;
    }
    // A lazy quantifier accepts the same strings.
    if (this.peek() === '?') this.index += 1;
    if (this.peek() === '*' || this.peek() === '+' || this.peek() === '{') throw new Unsupported();
    return result;
  }

  private parseAtom(): string {
    const character = this.peek()!;
    if (character === '(') {
      this.index += 1;
      if (this.source.startsWith('?:', this.index)) this.index += 2;
      else if (/^\?<[A-Za-z_$][\w$]*>/.test(this.source.slice(this.index))) {
        this.index = this.source.indexOf('>', this.index) + 1;
      } else if (this.peek() === '?') throw new Unsupported();
      const inner = this.parseAlternation();
      if (this.peek() !== ')') throw new Unsupported();
      this.index += 1;
      return inner;
    }
    if (character === '[') return this.parseClass();
    if (character === '.') {
      this.index += 1;
      return negated(rangesRegex(LINE_TERMINATORS));
    }
    if (character === '\\') {
      const escaped = this.parseEscape();
      return typeof escaped === 'number' ? `(str.to_re ${charLiteral(escaped)})` : escaped.regex;
    }
    if (
      character === '*' ||
      character === '+' ||
      character === '?' ||
      character === '{' ||
      character === '}' ||
      character === ']'
    )
      throw new Unsupported();
    const code = this.source.codePointAt(this.index)!;
    this.index += String.fromCodePoint(code).length;
    return `(str.to_re ${charLiteral(code)})`;
  }

  /** An escape: a single code point, or a class (`\d`, `\w`, `\s` and negations). */
  private parseEscape(): number | { ranges: readonly Range[]; negated: boolean; regex: string } {
    this.index += 1;
    const character = this.peek();
    if (character === undefined) throw new Unsupported();
    this.index += 1;
    const ranges = CLASS_ESCAPES.get(character.toLowerCase());
    if (ranges !== undefined) {
      // An upper-case letter (`\D`, `\W`, `\S`) is the complement of its lower-case class.
      const negate = character !== character.toLowerCase();
      return { ranges, negated: negate, regex: negate ? negated(rangesRegex(ranges)) : rangesRegex(ranges) };
    }
    const control = CONTROL_ESCAPES.get(character);
    if (control !== undefined) return control;
    switch (character) {
      case '0':
        if (/\d/.test(this.peek() ?? '')) throw new Unsupported();
        return 0;
      case 'x': {
        const match = /^[0-9a-fA-F]{2}/.exec(this.source.slice(this.index));
        if (match === null) throw new Unsupported();
        this.index += 2;
        return Number.parseInt(match[0], 16);
      }
      case 'u': {
        const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(this.source.slice(this.index));
        const plain = /^[0-9a-fA-F]{4}/.exec(this.source.slice(this.index));
        if (braced !== null) {
          this.index += braced[0].length;
          return Number.parseInt(braced[1]!, 16);
        }
        if (plain !== null) {
          this.index += 4;
          const code = Number.parseInt(plain[0], 16);
          // With the u flag a `\uHHHH\uLLLL` surrogate pair is one code point, as in a string literal.
          const low = /^\\u(d[c-f][0-9a-f]{2})/i.exec(this.source.slice(this.index));
          if (code >= 0xd800 && code <= 0xdbff && low !== null) {
            this.index += 6;
            return 0x10000 + ((code - 0xd800) << 10) + (Number.parseInt(low[1]!, 16) - 0xdc00);
          }
          return code;
        }
        throw new Unsupported();
      }
      default:
        // With the u flag only syntax characters (and '/' and '-') may be escaped to themselves.
        if ('^$\\.*+?()[]{}|/-'.includes(character)) return character.codePointAt(0)!;
        throw new Unsupported();
    }
  }

  private parseClass(): string {
    this.index += 1;
    let negate = false;
    if (this.peek() === '^') {
      negate = true;
      this.index += 1;
    }
    const ranges: Range[] = [];
    const negatedParts: string[] = [];
    const readMember = (): number | { ranges: readonly Range[]; negated: boolean; regex: string } => {
      const character = this.peek();
      if (character === undefined) throw new Unsupported();
      if (character === '\\') {
        if (this.source[this.index + 1] === 'b') {
          this.index += 2;
          return 0x08;
        }
        return this.parseEscape();
      }
      if (character === '[') throw new Unsupported();
      const code = this.source.codePointAt(this.index)!;
      this.index += String.fromCodePoint(code).length;
      return code;
    };
    while (this.peek() !== ']') {
      const first = readMember();
      if (typeof first !== 'number') {
        if (first.negated) negatedParts.push(first.regex);
        else ranges.push(...first.ranges);
        continue;
      }
      if (
        this.peek() === '-' &&
        this.source[this.index + 1] !== ']' &&
        this.source[this.index + 1] !== undefined
      ) {
        this.index += 1;
        const last = readMember();
        if (typeof last !== 'number' || last < first) throw new Unsupported();
        ranges.push([first, last]);
      } else {
        ranges.push([first, first]);
      }
    }
    this.index += 1;
    const members = [...(ranges.length > 0 ? [rangesRegex(ranges)] : []), ...negatedParts];
    const union =
      members.length === 0
        ? 're.none'
        : members.length === 1
          ? members[0]!
          : `(re.union ${members.join(' ')})`;
    return negate ? negated(union) : union;
  }
}
