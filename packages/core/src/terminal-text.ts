import { ConfigurationError } from './errors.js';

/**
 * Characters that could change how a terminal or an approval prompt shows text, or hide part of it:
 * C0 and C1 controls and DEL (`\p{Cc}`: newline, ESC that starts ANSI sequences, the one-byte CSI
 * `\u009b`, ...); format characters (`\p{Cf}`: the bidirectional embeddings, overrides and isolates
 * U+202A–202E and U+2066–2069, the marks U+200E/200F/061C, zero-width space, joiners, U+FEFF, soft
 * hyphen, tag characters); the line and paragraph separators U+2028/2029; lone surrogates; every
 * other default-ignorable code point (variation selectors, Hangul fillers, ...); and every space
 * separator other than U+0020 (no-break and wide spaces look like a plain space).
 */
const UNSAFE_CHARACTER =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;
// The same set plus the two characters a quoted value must escape to stay unambiguous.
const UNSAFE_IN_QUOTES =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"\\]/u;

const NAMED_ESCAPES: Readonly<Record<string, string>> = Object.freeze({
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\u001b': '\\x1b',
  '"': '\\"',
  '\\': '\\\\',
});

/** The longest escaped text {@link escapeTerminalText} and {@link quoteTerminalText} show by default. */
export const DEFAULT_TERMINAL_TEXT_LENGTH = 200;

/** Options of {@link escapeTerminalText} and {@link quoteTerminalText}. */
export interface TerminalTextOptions {
  /**
   * The most characters of escaped text to show (a positive integer, or `Infinity` for no bound);
   * default {@link DEFAULT_TERMINAL_TEXT_LENGTH}. Text cut at this bound ends with the marker
   * `… (N more characters)`, N counting the original characters (code points) not shown. An escape
   * sequence is never cut in half.
   */
  readonly maxLength?: number;
}

function escapeCharacter(character: string): string {
  const named = NAMED_ESCAPES[character];
  if (named !== undefined) return named;
  const code = character.codePointAt(0) ?? 0;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

function maxLengthOf(options: TerminalTextOptions | undefined): number {
  const maxLength = options?.maxLength ?? DEFAULT_TERMINAL_TEXT_LENGTH;
  if (maxLength === Number.POSITIVE_INFINITY) return maxLength;
  if (typeof maxLength !== 'number' || !Number.isSafeInteger(maxLength) || maxLength < 1) {
    throw new ConfigurationError(
      `terminal text: maxLength must be a positive integer or Infinity, got ${String(maxLength)}.`,
      { field: 'maxLength' },
    );
  }
  return maxLength;
}

function codePointsFrom(text: string, start: number): number {
  let count = 0;
  for (let index = start; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index++;
    }
    count++;
  }
  return count;
}

/** The marker that ends cut text: `… (N more characters)`. */
function moreMarker(count: number): string {
  return `… (${count} more character${count === 1 ? '' : 's'})`;
}

interface Escaped {
  readonly text: string;
  /** Original code points not shown (0 when nothing was cut). */
  readonly more: number;
}

function escapeBounded(text: string, unsafe: RegExp, maxLength: number): Escaped {
  if (text.length <= maxLength && !unsafe.test(text)) return { text, more: 0 };
  let shown = '';
  let consumed = 0;
  for (const character of text) {
    const piece = unsafe.test(character) ? escapeCharacter(character) : character;
    if (shown.length + piece.length > maxLength) return { text: shown, more: codePointsFrom(text, consumed) };
    shown += piece;
    consumed += character.length;
  }
  return { text: shown, more: 0 };
}

/**
 * The one sanitiser for untrusted text shown on a terminal or in an approval prompt (audit console
 * lines, escalation prompts, CLI messages, the MCP gateway's elicitation). Every character that
 * could move the cursor, start an escape sequence, break the line, reorder the text or hide in it
 * (see the list above) becomes a visible escape: `\n`, `\r`, `\t`, `\x1b`, `\xNN`, `\uNNNN` or
 * `\u{NNNNN}`. Escaped text longer than `maxLength` is cut and ends with `… (N more characters)`.
 * A backslash is left as it is, so a literal `\u202e` in the input looks like an escape: use
 * {@link quoteTerminalText} where the shown text must map back to exactly one input.
 * @throws ConfigurationError (`CONFIG_INVALID`) when `maxLength` is not a positive integer or Infinity.
 */
export function escapeTerminalText(text: string, options?: TerminalTextOptions): string {
  const escaped = escapeBounded(String(text), UNSAFE_CHARACTER, maxLengthOf(options));
  return escaped.more === 0 ? escaped.text : `${escaped.text}${moreMarker(escaped.more)}`;
}

/**
 * `text` as a double-quoted, escaped string: like {@link escapeTerminalText}, and `"` and `\` are
 * escaped too, so the shown text maps back to exactly one input. Cut text ends with the closing
 * quote and then the marker (`"abc"… (N more characters)`), outside the quotes, where no input can
 * put it.
 * @throws ConfigurationError (`CONFIG_INVALID`) when `maxLength` is not a positive integer or Infinity.
 */
export function quoteTerminalText(text: string, options?: TerminalTextOptions): string {
  const escaped = escapeBounded(String(text), UNSAFE_IN_QUOTES, maxLengthOf(options));
  return escaped.more === 0 ? `"${escaped.text}"` : `"${escaped.text}"${moreMarker(escaped.more)}`;
}
