import type { ProvenanceLabel } from '@ape/core';
import {
  combineLabels,
  isProvenanceLabel,
  PROVENANCE_LABELS,
  ProvenanceError,
  trustRank,
  unwrapLabeled,
} from '@ape/core';

/** Text and configuration written by the host program itself: the most trusted label. */
export const SYSTEM_TRUSTED = 'SYSTEM_TRUSTED' satisfies ProvenanceLabel;

/** Input the human user of the agent typed or confirmed. */
export const USER_TRUSTED = 'USER_TRUSTED' satisfies ProvenanceLabel;

/**
 * Anything from outside: web pages, files, e-mails, tool outputs, the model's own text. The least
 * trusted label, and the one every empty, missing or unknown label falls back to.
 */
export const EXTERNAL_UNTRUSTED = 'EXTERNAL_UNTRUSTED' satisfies ProvenanceLabel;

/** The three labels by name, for `Labels.USER_TRUSTED`-style access. Frozen. */
export const Labels: Readonly<{
  SYSTEM_TRUSTED: 'SYSTEM_TRUSTED';
  USER_TRUSTED: 'USER_TRUSTED';
  EXTERNAL_UNTRUSTED: 'EXTERNAL_UNTRUSTED';
}> = Object.freeze({ SYSTEM_TRUSTED, USER_TRUSTED, EXTERNAL_UNTRUSTED });

/**
 * The least trusted of `labels`: the same function as `combineLabels` of `@ape/core`.
 * @deprecated Use `combineLabels` (exported by `@ape/core` and `@ape/provenance`).
 */
export const combine: typeof combineLabels = combineLabels;

/**
 * Orders two labels by trust, for `Array.prototype.sort`: negative when `a` is less trusted than `b`,
 * zero when equally trusted, positive when more trusted. An unknown label ranks with
 * `EXTERNAL_UNTRUSTED`. Never throws.
 */
export function compareTrust(a: unknown, b: unknown): number {
  return trustRank(a) - trustRank(b);
}

/**
 * The plain value of labelled arguments: the same function as `unwrapLabeled` of `@ape/core`.
 * @deprecated Use `unwrapLabeled` (exported by `@ape/core` and `@ape/provenance`).
 */
export const unwrap: typeof unwrapLabeled = unwrapLabeled;

const MAX_QUOTED_LENGTH = 64;

function describe(text: unknown): string {
  if (typeof text !== 'string') return `a value of type ${text === null ? 'null' : typeof text}`;
  const shown = text.length > MAX_QUOTED_LENGTH ? `${text.slice(0, MAX_QUOTED_LENGTH)}...` : text;
  return JSON.stringify(shown);
}

/**
 * Reads a label from text such as a CLI flag (`--provenance USER_TRUSTED`) or a configuration value.
 * Only the exact names are accepted (no trimming, no case folding), so a typo can never be read as
 * some other label.
 *
 * @throws {ProvenanceError} code `PROVENANCE` when `text` is not one of the three labels; the message
 *   quotes the bad text and lists the valid ones, `details` holds `{ text, expected }`.
 */
export function parseLabel(text: unknown): ProvenanceLabel {
  if (isProvenanceLabel(text)) return text;
  throw new ProvenanceError(
    `Unknown provenance label ${describe(text)}: expected one of ${PROVENANCE_LABELS.join(', ')}.`,
    { text: typeof text === 'string' ? text : describe(text), expected: PROVENANCE_LABELS },
  );
}
