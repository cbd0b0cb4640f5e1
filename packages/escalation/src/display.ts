import { type EscalationRequest, escapeTerminalText, quoteTerminalText } from '@ape/core';

/** The longest value shown for one argument. */
const MAX_VALUE_LENGTH = 80;
/** The most arguments listed one by one; the rest are counted. */
const MAX_LISTED_ARGUMENTS = 20;
/** The longest argument name shown. */
const MAX_NAME_LENGTH = 40;
/** The longest tenant, session, action, rule id or reason shown. */
const MAX_FIELD_LENGTH = 200;

/**
 * Untrusted text made safe to show on one terminal line, cut to `maxLength` characters: core's
 * {@link escapeTerminalText} (every character that could move the cursor, start an escape
 * sequence, break the line, reorder or hide text becomes a visible escape; cut text ends with
 * `… (N more characters)`).
 * @internal
 */
export function displayText(text: string, maxLength: number): string {
  return escapeTerminalText(text, { maxLength });
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return quoteTerminalText(value, { maxLength: MAX_VALUE_LENGTH });
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[array of ${value.length}]`;
  if (typeof value === 'object') {
    const names = Object.keys(value);
    const shown = names.slice(0, 5).map((name) => displayText(name, MAX_NAME_LENGTH));
    return `{object: ${shown.join(', ')}${names.length > shown.length ? ', …' : ''}}`;
  }
  return `<${typeof value}>`;
}

/**
 * One `name = value` line per argument (at most 20, then a count of the rest): names and string
 * values escaped and cut, nested objects and arrays summarised, never expanded. Values are read once
 * with guards, so a hostile object cannot break the summary.
 * @internal
 */
export function summariseArguments(args: Readonly<Record<string, unknown>>): string[] {
  let names: string[];
  try {
    names = Object.keys(args);
  } catch {
    return ['<unreadable arguments>'];
  }
  if (names.length === 0) return ['(none)'];
  const lines: string[] = [];
  for (const name of names.slice(0, MAX_LISTED_ARGUMENTS)) {
    let shown: string;
    try {
      shown = describeValue(args[name]);
    } catch {
      shown = '<unreadable>';
    }
    lines.push(`${displayText(name, MAX_NAME_LENGTH)} = ${shown}`);
  }
  if (names.length > MAX_LISTED_ARGUMENTS) lines.push(`… and ${names.length - MAX_LISTED_ARGUMENTS} more`);
  return lines;
}

/**
 * One `pointer: LABEL` line per labelled leaf (`EscalationRequest.argLabels`, sorted; at most 20,
 * then a count of the rest), pointers escaped and cut: they are built from argument names.
 * Nothing when the request carries no per-argument labels.
 * @internal
 */
export function summariseArgumentLabels(labels: EscalationRequest['argLabels']): string[] {
  if (typeof labels !== 'object' || labels === null) return [];
  let pointers: string[];
  try {
    pointers = Object.keys(labels).sort();
  } catch {
    return ['<unreadable argument labels>'];
  }
  const lines = pointers
    .slice(0, MAX_LISTED_ARGUMENTS)
    .map(
      (pointer) => `${displayText(pointer, MAX_NAME_LENGTH)}: ${displayText(String(labels[pointer]), 40)}`,
    );
  if (pointers.length > MAX_LISTED_ARGUMENTS)
    lines.push(`… and ${pointers.length - MAX_LISTED_ARGUMENTS} more`);
  return lines;
}

/**
 * A one-line, escaped description of a request (`tenant/session step N: action(arg names)`), for
 * lists in a host UI or a log line.
 * @internal
 */
export function summariseRequest(request: EscalationRequest): string {
  let names: string[];
  try {
    names = Object.keys(request.args);
  } catch {
    names = [];
  }
  const shownNames = names.slice(0, 5).map((name) => displayText(name, MAX_NAME_LENGTH));
  const more = names.length > shownNames.length ? ', …' : '';
  return (
    `${displayText(String(request.tenant), MAX_FIELD_LENGTH)}/${displayText(String(request.session), MAX_FIELD_LENGTH)}` +
    ` step ${displayText(String(request.stepIndex), 20)}: ${displayText(String(request.action), MAX_FIELD_LENGTH)}` +
    `(${shownNames.join(', ')}${more})`
  );
}

/**
 * The block a terminal approver reads: tenant, session, step, action, arguments, provenance, rule
 * ids and reason, every field escaped (see {@link displayText}), one field per line.
 * @internal
 */
export function formatRequest(request: EscalationRequest): string {
  const field = (value: unknown): string => displayText(String(value), MAX_FIELD_LENGTH);
  const rules = Array.isArray(request.decision?.rules) ? request.decision.rules.map(field).join(', ') : '';
  const lines = [
    '',
    '=== APE: approval required ===',
    `tenant:     ${field(request.tenant)}`,
    `session:    ${field(request.session)}`,
    `step:       ${field(request.stepIndex)}`,
    `action:     ${field(request.action)}`,
    'args:',
    ...summariseArguments(request.args).map((line) => `  ${line}`),
    `provenance: ${field(request.provenance)}`,
    ...summariseArgumentLabels(request.argLabels).map((line) => `  ${line}`),
    `rules:      ${rules === '' ? '(none)' : rules}`,
    `reason:     ${field(request.decision?.reason ?? '')}`,
  ];
  return `${lines.join('\n')}\n`;
}
