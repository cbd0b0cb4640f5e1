import { escapeTerminalText } from '@ape/core';

const HTML_ESCAPES: Readonly<Record<string, string>> = Object.freeze({
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
});
const HTML_SPECIAL = /[&<>"'`]/g;

/**
 * @internal Markup the console produced itself. Only {@link html} and {@link joinHtml} make one, so
 * a value that is not a `SafeHtml` is always escaped where it is interpolated.
 */
export class SafeHtml {
  readonly markup: string;
  private constructor(markup: string) {
    this.markup = markup;
  }

  /** @internal The one way to wrap markup: used by the template tag below and nowhere else. */
  static trusted(markup: string): SafeHtml {
    return new SafeHtml(markup);
  }

  toString(): string {
    return this.markup;
  }
}

/** @internal `&`, `<`, `>`, quotes and backtick as entities: safe in element content and quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(HTML_SPECIAL, (character) => HTML_ESCAPES[character] ?? character);
}

type Interpolated = SafeHtml | string | number | boolean | undefined | null | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * @internal The template tag for every page: each interpolated value is HTML-escaped unless it is
 * itself `SafeHtml` (an array is rendered item by item). Untrusted text must still go through
 * {@link inertText} first so that controls and bidirectional overrides become visible.
 */
export function html(strings: TemplateStringsArray, ...values: readonly Interpolated[]): SafeHtml {
  let markup = strings[0] ?? '';
  for (let index = 0; index < values.length; index++) {
    markup += render(values[index] as Interpolated) + (strings[index + 1] ?? '');
  }
  return SafeHtml.trusted(markup);
}

/** @internal Joins fragments (each escaped unless `SafeHtml`). */
export function joinHtml(parts: readonly Interpolated[], separator = ''): SafeHtml {
  return SafeHtml.trusted(parts.map(render).join(escapeHtml(separator)));
}

/** How many characters of one untrusted value the lists show before "show all". */
export const SHOWN_TEXT_LENGTH = 200;

/** @internal What {@link inertText} made of a value. */
export interface InertText {
  /** The text to show: controls and bidi escaped, cut to the bound (HTML escaping happens on render). */
  readonly text: string;
  /** True when part of the value is not shown. */
  readonly cut: boolean;
}

/**
 * @internal Untrusted text (an argument, a rule id, a reason, a log field) as text that cannot act:
 * core's terminal-text sanitiser turns controls, bidirectional overrides and invisible characters
 * into visible escapes and cuts the text at `maxLength` (`Infinity`: never); rendering through
 * {@link html} then escapes the markup characters. Nothing of it is ever used as a URL or an attribute
 * name.
 */
export function inertText(value: string, maxLength: number = SHOWN_TEXT_LENGTH): InertText {
  const whole = escapeTerminalText(value, { maxLength: Number.POSITIVE_INFINITY });
  if (whole.length <= maxLength) return { text: whole, cut: false };
  return { text: escapeTerminalText(value, { maxLength }), cut: true };
}

/** @internal A JSON value as the one line of text the lists show (strings as they are). */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  const json = JSON.stringify(value, null, 1);
  return json === undefined ? String(value) : json.replace(/\n\s*/g, ' ');
}
