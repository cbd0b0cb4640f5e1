/**
 * @internal SMT-LIB 2.6 text helpers: string literals, numerals and a reader for the s-expressions
 * Z3 prints (`get-value` answers).
 */

/** An SMT-LIB string literal: `"` doubled, anything outside printable ASCII (and `\`) as `\u{..}`. */
export function smtString(value: string): string {
  let out = '"';
  for (const character of value) {
    const code = character.codePointAt(0)!;
    if (character === '"') out += '""';
    else if (code < 0x20 || code > 0x7e || character === '\\') out += `\\u{${code.toString(16)}}`;
    else out += character;
  }
  return `${out}"`;
}

/** Decodes the body of an SMT-LIB string literal (without the outer quotes). */
export function decodeSmtString(body: string): string {
  let out = '';
  for (let index = 0; index < body.length; index++) {
    const character = body[index]!;
    if (character === '"' && body[index + 1] === '"') {
      out += '"';
      index += 1;
    } else if (character === '\\' && body[index + 1] === 'u') {
      const braced = /^\\u\{([0-9a-fA-F]{1,5})\}/.exec(body.slice(index));
      const plain = /^\\u([0-9a-fA-F]{4})/.exec(body.slice(index));
      const match = braced ?? plain;
      if (match === null) {
        out += character;
      } else {
        out += String.fromCodePoint(Number.parseInt(match[1]!, 16));
        index += match[0].length - 1;
      }
    } else {
      out += character;
    }
  }
  return out;
}

/**
 * The shortest decimal JavaScript prints for a finite non-negative number, without an exponent
 * (`1e+21` is `1000000000000000000000`, `1.5e-7` is `0.00000015`): the same digits, point moved.
 */
function plainDecimal(magnitude: number): string {
  const text = magnitude.toString();
  const match = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (match === null) return text;
  const digits = `${match[1]!}${match[2] ?? ''}`;
  const point = 1 + Number(match[3]);
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${digits}${'0'.repeat(point - digits.length)}`;
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** An SMT-LIB real numeral for a finite JavaScript number: the decimal JavaScript prints for it, exactly. */
export function smtReal(value: number): string {
  let text = plainDecimal(Math.abs(value));
  if (!text.includes('.')) text += '.0';
  if (text.endsWith('.')) text += '0';
  return value < 0 ? `(- ${text})` : text;
}

/** A parsed s-expression: an atom (symbol or numeral), a string literal, or a list. */
export type SExpression = string | { readonly string: string } | readonly SExpression[];

/** Reads every s-expression in `text`. */
export function readSExpressions(text: string): SExpression[] {
  const stack: SExpression[][] = [[]];
  let index = 0;
  while (index < text.length) {
    const character = text[index]!;
    if (character === '(') {
      stack.push([]);
      index += 1;
    } else if (character === ')') {
      const done = stack.pop();
      const parent = stack[stack.length - 1];
      if (done === undefined || parent === undefined)
        throw new Error('unbalanced parenthesis in solver output');
      parent.push(done);
      index += 1;
    } else if (character === '"') {
      let end = index + 1;
      while (end < text.length) {
        if (text[end] === '"') {
          if (text[end + 1] === '"') end += 2;
          else break;
        } else end += 1;
      }
      stack[stack.length - 1]!.push({ string: decodeSmtString(text.slice(index + 1, end)) });
      index = end + 1;
    } else if (/\s/.test(character)) {
      index += 1;
    } else if (character === ';') {
      while (index < text.length && text[index] !== '\n') index += 1;
    } else {
      let end = index;
      while (end < text.length && !/[\s()"]/.test(text[end]!)) end += 1;
      stack[stack.length - 1]!.push(text.slice(index, end));
      index = end;
    }
  }
  if (stack.length !== 1) throw new Error('unbalanced parenthesis in solver output');
  return stack[0]!;
}

/** Reads a real or integer value Z3 printed: `1.0`, `(- 2)`, `(/ 1.0 3.0)`. */
export function realValue(expression: SExpression): number {
  if (typeof expression === 'string') return Number(expression);
  if (Array.isArray(expression)) {
    const [head, first, second] = expression as readonly SExpression[];
    if (head === '-' && first !== undefined && second === undefined) return -realValue(first);
    if (head === '/' && first !== undefined && second !== undefined)
      return realValue(first) / realValue(second);
  }
  return Number.NaN;
}
