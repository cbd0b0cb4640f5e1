import type { Labeled, ProvenanceLabel } from '@ape/core';
import { combineLabels, isLabeled, ProvenanceError } from '@ape/core';
import { buildLabeled, type Unlabeled } from './labeled-value.js';

/** The plain values behind a tuple of labelled or plain inputs. */
export type UnlabeledAll<T extends readonly unknown[]> = { -readonly [K in keyof T]: Unlabeled<T[K]> };

/**
 * The plain values of `inputs` in order, the least trusted of their labels (a plain input counts as
 * `plainLabel`) and the union of their sources: what {@link derive}, {@link join} and the template
 * tags combine.
 */
function unwrapInputs(
  inputs: readonly unknown[],
  plainLabel: unknown,
): { values: unknown[]; label: ProvenanceLabel; sources: string[] } {
  const labels: unknown[] = [];
  const sources: string[] = [];
  const values: unknown[] = [];
  for (const input of inputs) {
    if (isLabeled(input)) {
      labels.push(input.label);
      sources.push(...input.sources);
      values.push(input.value);
    } else {
      labels.push(plainLabel);
      values.push(input);
    }
  }
  return { values, label: combineLabels(...labels), sources };
}

/**
 * Computes a new value from a labelled one. The result carries the input's label and sources; if
 * `fn` returns a labelled value (or one containing labelled values) the result is the least trusted
 * of both. `fn` receives the plain value and must compute only from it: a plain value captured from
 * elsewhere cannot be seen, so pass several inputs through {@link derive} instead.
 *
 * A non-labelled `input` is treated as `EXTERNAL_UNTRUSTED` (fail closed). Exceptions thrown by `fn`
 * propagate unchanged.
 */
export function map<T, R>(input: Labeled<T>, fn: (value: T) => R): Labeled<Unlabeled<R>> {
  if (!isLabeled(input)) return buildLabeled(fn(input as T), 'EXTERNAL_UNTRUSTED', []);
  return buildLabeled(fn(input.value as T), input.label, input.sources);
}

/**
 * Computes a new value from several inputs: `fn` receives their plain values in order, and the
 * result's label is the least trusted of all of them, its sources the union of theirs. A plain
 * (non-labelled) input counts as `EXTERNAL_UNTRUSTED`; wrap a constant of your own with `trusted()`
 * to keep it from lowering the result. With no inputs the result is `EXTERNAL_UNTRUSTED`.
 *
 * ```ts
 * const summary = derive((page, note) => `${note}: ${page.slice(0, 100)}`, webPage, userNote);
 * ```
 */
export function derive<const I extends readonly unknown[], R>(
  fn: (...values: UnlabeledAll<I>) => R,
  ...inputs: I
): Labeled<Unlabeled<R>> {
  const { values, label, sources } = unwrapInputs(inputs, 'EXTERNAL_UNTRUSTED');
  const result = fn(...(values as UnlabeledAll<I>));
  return buildLabeled(result, label, sources);
}

/** Options of {@link join}. */
export interface JoinOptions {
  /**
   * The label of the plain (non-labelled) parts. Default `EXTERNAL_UNTRUSTED`: a plain string could
   * have come from anywhere, so it is not trusted unless you say so.
   */
  readonly plainLabel?: ProvenanceLabel;
}

/**
 * Joins labelled and plain parts into one labelled string, like `Array.prototype.join` (`null` and
 * `undefined` parts become empty text). The separator is code, not data: it never lowers the label.
 * The result's label is the least trusted of the parts' labels, where plain parts take
 * `options.plainLabel` (default `EXTERNAL_UNTRUSTED`); its sources are the union of the parts'.
 * With no parts the result is `''` labelled `EXTERNAL_UNTRUSTED`.
 */
export function join(parts: readonly unknown[], separator = ',', options: JoinOptions = {}): Labeled<string> {
  const plainLabel = options.plainLabel ?? 'EXTERNAL_UNTRUSTED';
  const { values, label, sources } = unwrapInputs(parts, plainLabel);
  return buildLabeled(values.join(separator), label, sources);
}

/**
 * A labelled-string template tag whose plain (non-labelled) interpolations take `plainLabel`.
 * Returned by {@link withPlainLabel}.
 */
export type LabeledTemplateTag = (
  strings: TemplateStringsArray,
  ...values: readonly unknown[]
) => Labeled<string>;

function render(
  plainLabel: unknown,
  strings: TemplateStringsArray,
  values: readonly unknown[],
): Labeled<string> {
  if (!Array.isArray(strings) || !Array.isArray(strings.raw) || strings.length !== values.length + 1) {
    throw new ProvenanceError(
      'labeled is a template tag: write labeled`text <value>`, not labeled(text); only the literal parts of a real template are known to be code.',
      { reason: 'not_a_template' },
    );
  }
  const unwrapped = unwrapInputs(values, plainLabel);
  let text = strings[0] ?? strings.raw[0] ?? '';
  for (let index = 0; index < values.length; index++) {
    text += String(unwrapped.values[index]);
    text += strings[index + 1] ?? strings.raw[index + 1] ?? '';
  }
  return buildLabeled(text, unwrapped.label, unwrapped.sources);
}

/**
 * The template tag: `` labeled`send ${body} to ${recipient}` `` is a labelled string whose label is the
 * least trusted of the interpolated values and whose sources are theirs. The literal parts are code
 * written by the developer and never lower the label. A plain (non-labelled) interpolated value
 * counts as `EXTERNAL_UNTRUSTED`; use {@link withPlainLabel} to declare another label for them. A
 * template with no interpolations is `EXTERNAL_UNTRUSTED` (there is no labelled input to vouch for
 * it): label your own constant text with `trusted()` instead.
 *
 * @throws {ProvenanceError} code `PROVENANCE` when called as a plain function rather than as a tag.
 */
export function labeled(strings: TemplateStringsArray, ...values: readonly unknown[]): Labeled<string> {
  return render('EXTERNAL_UNTRUSTED', strings, values);
}

/**
 * A template tag like {@link labeled} whose plain (non-labelled) interpolated values take
 * `plainLabel` instead of `EXTERNAL_UNTRUSTED`. Labelled values keep their own labels, so the result
 * is never more trusted than any of them. Create the tag once and reuse it.
 *
 * ```ts
 * const userText = withPlainLabel('USER_TRUSTED');
 * const request = userText`summarise ${topic} from ${page}`; // page's label wins if lower
 * ```
 */
export function withPlainLabel(plainLabel: ProvenanceLabel): LabeledTemplateTag {
  return (strings, ...values) => render(plainLabel, strings, values);
}
