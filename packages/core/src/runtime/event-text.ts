import { canonicalJson, numberJson, quoted } from '../canonical-json.js';
import type { AuditEventType } from '../types.js';

/**
 * @internal The canonical JSON of the data of one of the runtime's frequent audit events, built
 * field by field from what the runtime put in it (no key sort, no property descriptor read, no
 * walk), or `undefined` when the data is not exactly the shape the runtime builds for `type` (a key
 * more or less, a value of another type, a non-finite number, a container that is not frozen). Equal,
 * byte for byte, to `canonicalJson(data)` whenever it answers (a property test checks it).
 *
 * `data` must be a frozen object the runtime built (its own properties are plain data properties);
 * the sinks that serialise event data ask the runtime for this text (`AuditSink.canonicalData`).
 */
export function runtimeEventText(
  type: AuditEventType,
  data: Readonly<Record<string, unknown>>,
): string | undefined {
  switch (type) {
    case 'decision.made':
      return decisionMadeText(data);
    case 'plan.extended':
      return planExtendedText(data);
    case 'token.issued':
      return tokenIssuedText(data);
    case 'token.consumed':
      return tokenConsumedText(data);
    case 'tool.executed':
      return toolExecutedText(data);
    default:
      return undefined;
  }
}

/** How many own enumerable keys `data` has. */
function keyCount(data: object): number {
  return Object.keys(data).length;
}

/** A finite number as canonical JSON prints it (`-0` as `0`); `undefined` for anything else. */
function numberText(value: unknown): string | undefined {
  // `Number.isFinite` is false for anything that is not a number (no coercion).
  return Number.isFinite(value) ? numberJson(value as number) : undefined;
}

/** A frozen array of strings as canonical JSON; `undefined` for anything else (or a hole). */
function stringsText(value: unknown): string | undefined {
  if (!Array.isArray(value) || !Object.isFrozen(value)) return undefined;
  let out = '[';
  for (let index = 0; index < value.length; index++) {
    const item: unknown = value[index];
    if (typeof item !== 'string') return undefined;
    if (index > 0) out += ',';
    out += quoted(item);
  }
  return out + ']';
}

/*
 * Most fields of a gated call's records repeat from call to call: the policy's digest, the rule's
 * reason, the arguments' digest, the action, the token's fingerprint (issued, then consumed), the
 * argument names and labels. Each memo below answers exactly the text `quoted`, `stringsText` or
 * `frozenValueText` gives for the value it is asked about (it depends on nothing else), so a miss
 * only costs the work it would have done anyway; a hit spares scanning the string for characters to
 * escape (about 100 ns for a 64-digit hex digest, more for a reason that quotes the action) or
 * walking the labels.
 */

/**
 * Remembers the quoted form of the last string it was asked for, between `before` and `after` (one
 * flat string when either is given: see {@link flat}).
 */
class LastQuoted {
  readonly #before: string;
  readonly #after: string;
  #text: string | undefined;
  #json = '';

  constructor(before = '', after = '') {
    this.#before = before;
    this.#after = after;
  }

  of(text: string): string {
    if (text !== this.#text) {
      const json = quoted(text);
      this.#json = this.#before === '' && this.#after === '' ? json : flat(this.#before + json + this.#after);
      this.#text = text;
    }
    return this.#json;
  }
}

/**
 * Remembers the text of the last frozen array of strings it was asked for: the same array (a rule
 * list the policy keeps) or one with the same strings in the same order (the sorted argument names
 * of a call like the last one) gives the same text.
 */
class LastStrings {
  #items: readonly string[] = [];
  #json: string | undefined;

  of(value: unknown): string | undefined {
    if (!Array.isArray(value) || !Object.isFrozen(value)) return undefined;
    const json = this.#json;
    if (json !== undefined && (value === this.#items || sameStrings(value, this.#items))) return json;
    const text = stringsText(value);
    if (text !== undefined) {
      this.#items = value as readonly string[];
      this.#json = text;
    }
    return text;
  }
}

/** Whether `value` holds exactly the strings of `items`, in order (no hole, nothing else). */
function sameStrings(value: readonly unknown[], items: readonly string[]): boolean {
  if (value.length !== items.length) return false;
  for (let index = 0; index < value.length; index++) {
    const item = value[index];
    if (typeof item !== 'string' || item !== items[index]) return false;
  }
  return true;
}

/**
 * Remembers the text of the last value {@link frozenValueText} answered for: the same object gives
 * the same text (it was frozen all through when its text was made, so nothing in it changed). A
 * call's argument labels are such an object: the runtime keeps one label map per shape of arguments.
 */
class LastFrozenValue {
  #value: unknown;
  #json: string | undefined;

  of(value: unknown): string | undefined {
    if (this.#json !== undefined && value === this.#value) return this.#json;
    const text = frozenValueText(value);
    if (text !== undefined && typeof value === 'object' && value !== null) {
      this.#value = value;
      this.#json = text;
    }
    return text;
  }
}

/** `{"action":A`, the start of every record text built here, as one flat string. */
const actionOpen = new LastQuoted('{"action":', '');
const argsDigestJson = new LastQuoted();
const decisionJson = new LastQuoted();
const modeJson = new LastQuoted();
const policyJson = new LastQuoted();
const provenanceJson = new LastQuoted();
const reasonJson = new LastQuoted();
/** `,"fingerprint":F,"stepIndex":`, shared by `token.issued` and `token.consumed`, as one flat string. */
const fingerprintField = new LastQuoted(',"fingerprint":', ',"stepIndex":');
const argNamesJson = new LastStrings();
const rulesJson = new LastStrings();
const sourcesJson = new LastStrings();
const argLabelsJson = new LastFrozenValue();

/**
 * A value frozen all through, as canonical JSON (the general serialiser, so any content);
 * `undefined` when something in it is not frozen or it is not serialisable.
 */
function frozenValueText(value: unknown): string | undefined {
  if (!isFrozenThrough(value, 0)) return undefined;
  let text: string | undefined;
  try {
    text = canonicalJson(value);
  } catch {
    // Not JSON: the general serialiser refuses it again in the sink, naming the path.
  }
  return text;
}

/** Argument labels as canonical JSON (see {@link LastFrozenValue}). */
function labelsText(value: unknown): string | undefined {
  return argLabelsJson.of(value);
}

/** A string as canonical JSON; `undefined` for anything else. */
function stringText(value: unknown): string | undefined {
  return typeof value === 'string' ? quoted(value) : undefined;
}

/**
 * An optional field of a record: `''` when it is absent, `prefix` (`,"name":`) and its text when
 * `text` accepts its value, `undefined` when it does not.
 */
function optionalField(
  prefix: string,
  value: unknown,
  text: (value: unknown) => string | undefined,
): string | undefined {
  if (value === undefined) return '';
  const inner = text(value);
  return inner === undefined ? undefined : prefix + inner;
}

const MAX_FROZEN_DEPTH = 64;

function isFrozenThrough(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > MAX_FROZEN_DEPTH || !Object.isFrozen(value)) return false;
  for (const item of Object.values(value)) if (!isFrozenThrough(item, depth + 1)) return false;
  return true;
}

/**
 * `decision.made`: `stepIndex, action, decision, rules, reason, policy, argsDigest, argNames,
 * provenance, sources, mode, enforced`, and optionally `code`, `args` and `argLabels` (see
 * `gate.ts`). Canonical key order: action, argLabels, argNames, args, argsDigest, code, decision,
 * enforced, mode, policy, provenance, reason, rules, sources, stepIndex.
 */
function decisionMadeText(data: Readonly<Record<string, unknown>>): string | undefined {
  const {
    action,
    argLabels,
    argNames,
    args,
    argsDigest,
    code,
    decision,
    enforced,
    mode,
    policy,
    provenance,
    reason,
    rules,
    sources,
    stepIndex,
  } = data;
  if (
    typeof action !== 'string' ||
    typeof argsDigest !== 'string' ||
    typeof decision !== 'string' ||
    typeof enforced !== 'boolean' ||
    typeof mode !== 'string' ||
    typeof policy !== 'string' ||
    typeof provenance !== 'string' ||
    typeof reason !== 'string'
  ) {
    return undefined;
  }
  const index = numberText(stepIndex);
  const names = argNamesJson.of(argNames);
  const ruleIds = rulesJson.of(rules);
  const from = sourcesJson.of(sources);
  if (index === undefined || names === undefined || ruleIds === undefined || from === undefined) {
    return undefined;
  }
  const labels = optionalField(',"argLabels":', argLabels, labelsText);
  const clear = optionalField(',"args":', args, frozenValueText);
  const coded = optionalField(',"code":', code, stringText);
  if (labels === undefined || clear === undefined || coded === undefined) return undefined;
  const present =
    (argLabels === undefined ? 0 : 1) + (args === undefined ? 0 : 1) + (code === undefined ? 0 : 1);
  if (keyCount(data) !== 12 + present) return undefined;
  return (
    callPart.of(action, labels, names, clear, argsDigest, coded) +
    decisionPart.of(decision, enforced, mode, policy, provenance, reason, ruleIds, from) +
    ',"stepIndex":' +
    index +
    '}'
  );
}

/**
 * Makes `text` one flat string now (V8 keeps a concatenation as a tree of pieces until it is read),
 * so a text remembered for reuse is copied in one piece into every record that holds it, instead of
 * its pieces being walked again each time.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/**
 * The part of a `decision.made` text about the call, up to the decision: `{"action":…` through
 * `argsDigest` (and `code`). Remembered for the last call that had exactly these texts and values:
 * the calls of a session, and of sessions alike, repeat them (with other arguments, only the
 * digest and the cleartext change).
 */
class LastCallPart {
  #action: string | undefined;
  #labels = '';
  #names = '';
  #clear = '';
  #argsDigest = '';
  #coded = '';
  #text = '';

  of(
    action: string,
    labels: string,
    names: string,
    clear: string,
    argsDigest: string,
    coded: string,
  ): string {
    if (
      action !== this.#action ||
      labels !== this.#labels ||
      names !== this.#names ||
      clear !== this.#clear ||
      argsDigest !== this.#argsDigest ||
      coded !== this.#coded
    ) {
      // `+`, not template literals: V8 builds a template with more work per piece.
      this.#text = flat(
        actionOpen.of(action) +
          labels +
          ',"argNames":' +
          names +
          clear +
          ',"argsDigest":' +
          argsDigestJson.of(argsDigest) +
          coded,
      );
      this.#action = action;
      this.#labels = labels;
      this.#names = names;
      this.#clear = clear;
      this.#argsDigest = argsDigest;
      this.#coded = coded;
    }
    return this.#text;
  }
}

/**
 * The part of a `decision.made` text about the decision: `,"decision":…` through `sources`.
 * Remembered for the last decision with exactly these values: the policy answers an action with the
 * same decision every time, so calls of the same action under the same provenance repeat it.
 */
class LastDecisionPart {
  #decision: string | undefined;
  #enforced = false;
  #mode = '';
  #policy = '';
  #provenance = '';
  #reason = '';
  #rules = '';
  #sources = '';
  #text = '';

  of(
    decision: string,
    enforced: boolean,
    mode: string,
    policy: string,
    provenance: string,
    reason: string,
    rules: string,
    sources: string,
  ): string {
    if (
      decision !== this.#decision ||
      enforced !== this.#enforced ||
      mode !== this.#mode ||
      policy !== this.#policy ||
      provenance !== this.#provenance ||
      reason !== this.#reason ||
      rules !== this.#rules ||
      sources !== this.#sources
    ) {
      this.#text = flat(
        ',"decision":' +
          decisionJson.of(decision) +
          ',"enforced":' +
          (enforced ? 'true' : 'false') +
          ',"mode":' +
          modeJson.of(mode) +
          ',"policy":' +
          policyJson.of(policy) +
          ',"provenance":' +
          provenanceJson.of(provenance) +
          ',"reason":' +
          reasonJson.of(reason) +
          ',"rules":' +
          rules +
          ',"sources":' +
          sources,
      );
      this.#decision = decision;
      this.#enforced = enforced;
      this.#mode = mode;
      this.#policy = policy;
      this.#provenance = provenance;
      this.#reason = reason;
      this.#rules = rules;
      this.#sources = sources;
    }
    return this.#text;
  }
}

const callPart = new LastCallPart();
const decisionPart = new LastDecisionPart();

/** `plan.extended`: `index, action, argsDigest, head, prev` (see `claims.ts`). */
function planExtendedText(data: Readonly<Record<string, unknown>>): string | undefined {
  const { action, argsDigest, head, index, prev } = data;
  const position = numberText(index);
  if (
    typeof action !== 'string' ||
    typeof argsDigest !== 'string' ||
    typeof head !== 'string' ||
    typeof prev !== 'string' ||
    position === undefined ||
    keyCount(data) !== 5
  ) {
    return undefined;
  }
  return (
    actionOpen.of(action) +
    ',"argsDigest":' +
    argsDigestJson.of(argsDigest) +
    ',"head":' +
    quoted(head) +
    ',"index":' +
    position +
    ',"prev":' +
    quoted(prev) +
    '}'
  );
}

/** `token.issued`: `fingerprint, stepIndex, action, expiresAt` (see `gate.ts`). */
function tokenIssuedText(data: Readonly<Record<string, unknown>>): string | undefined {
  const { action, expiresAt, fingerprint, stepIndex } = data;
  const expires = numberText(expiresAt);
  const index = numberText(stepIndex);
  if (
    typeof action !== 'string' ||
    typeof fingerprint !== 'string' ||
    expires === undefined ||
    index === undefined ||
    keyCount(data) !== 4
  ) {
    return undefined;
  }
  return actionOpen.of(action) + ',"expiresAt":' + expires + fingerprintField.of(fingerprint) + index + '}';
}

/** `token.consumed`: `fingerprint, stepIndex, action` (see `gate.ts`). */
function tokenConsumedText(data: Readonly<Record<string, unknown>>): string | undefined {
  const { action, fingerprint, stepIndex } = data;
  const index = numberText(stepIndex);
  if (
    typeof action !== 'string' ||
    typeof fingerprint !== 'string' ||
    index === undefined ||
    keyCount(data) !== 3
  ) {
    return undefined;
  }
  return actionOpen.of(action) + fingerprintField.of(fingerprint) + index + '}';
}

/** `tool.executed` of a tool that answered: `stepIndex, action, ok: true, durationMs` (see `gate.ts`). */
function toolExecutedText(data: Readonly<Record<string, unknown>>): string | undefined {
  const { action, durationMs, ok, stepIndex } = data;
  const duration = numberText(durationMs);
  const index = numberText(stepIndex);
  if (
    typeof action !== 'string' ||
    ok !== true ||
    duration === undefined ||
    index === undefined ||
    keyCount(data) !== 4
  ) {
    return undefined;
  }
  return actionOpen.of(action) + ',"durationMs":' + duration + ',"ok":true,"stepIndex":' + index + '}';
}
