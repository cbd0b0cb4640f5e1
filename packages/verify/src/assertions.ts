import { PolicyError, PROVENANCE_LABELS, type ProvenanceLabel } from '@ape/core';
import { isActionPattern, type PolicyData, type PolicyLoadOptions, readPolicyData } from '@ape/policy';

/** A `never_allow_with` entry: no call of `action` whose effective label is in `provenance` is ALLOWed. */
export interface NeverAllowWith {
  readonly action: string;
  readonly provenance: readonly ProvenanceLabel[];
}

/**
 * Security requirements kept next to a policy and proved against it:
 * - `always_deny`: every call of these actions (ids or globs) is DENY, for every tenant;
 * - `never_allow_with`: no call of `action` with one of the labels is ALLOW (ESCALATE and DENY pass);
 * - `must_escalate`: no call of these actions is ALLOW (a human decides, or the call is denied).
 */
export interface PolicyAssertions {
  readonly always_deny: readonly string[];
  readonly never_allow_with: readonly NeverAllowWith[];
  readonly must_escalate: readonly string[];
}

const KEYS = new Set(['always_deny', 'never_allow_with', 'must_escalate', 'description']);

/**
 * Validates assertions given as a value (as parsed from YAML or JSON).
 *
 * @throws PolicyError (`POLICY_INVALID`) naming the file, line (when known) and path of the first
 * problem: an unknown key, a bad action pattern or an unknown provenance label.
 */
export function parseAssertions(value: unknown, file = 'assertions', text?: string): PolicyAssertions {
  return checkAssertions(value, file, (path) => {
    if (text === undefined) return undefined;
    const read = readPolicyData({ text, filename: file }, READ_OPTIONS);
    return read.ok ? read.locate(path)?.line : undefined;
  });
}

/** Assertions files are read like policies, with no YAML aliases at all. */
const READ_OPTIONS: PolicyLoadOptions = { limits: { maxAliases: 0 } };

function checkAssertions(
  value: unknown,
  file: string,
  lineOf: (path: string) => number | undefined,
): PolicyAssertions {
  const fail = (path: readonly (string | number)[], message: string): never => {
    const where = `$${path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('')}`;
    const line = lineOf(where);
    throw new PolicyError(`${file}${line === undefined ? '' : `:${line}`}: ${where}: ${message}`, {
      file,
      path: where,
      ...(line === undefined ? {} : { line }),
    });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail([], 'the assertions must be a mapping with always_deny, never_allow_with or must_escalate');
  }
  const record = value as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(record)) if (!KEYS.has(key)) fail([key], `unknown key "${key}"`);
  const patterns = (key: string): string[] => {
    const list = record[key] ?? [];
    if (!Array.isArray(list)) return fail([key], 'must be a list of action ids or globs');
    list.forEach((item, index) => {
      if (!isActionPattern(item)) fail([key, index], 'not an action id or glob');
    });
    return [...(list as string[])];
  };
  const always = patterns('always_deny');
  const must = patterns('must_escalate');
  const rawNever = record['never_allow_with'] ?? [];
  if (!Array.isArray(rawNever)) return fail(['never_allow_with'], 'must be a list of { action, provenance }');
  const never = rawNever.map((entry: unknown, index): NeverAllowWith => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      return fail(['never_allow_with', index], 'must be a mapping { action, provenance }');
    }
    const item = entry as Readonly<Record<string, unknown>>;
    for (const key of Object.keys(item)) {
      if (key !== 'action' && key !== 'provenance')
        fail(['never_allow_with', index, key], `unknown key "${key}"`);
    }
    const action = item['action'];
    if (!isActionPattern(action)) {
      fail(['never_allow_with', index, 'action'], 'not an action id or glob');
    }
    const raw = item['provenance'];
    const labels = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(labels) || labels.length === 0) {
      return fail(
        ['never_allow_with', index, 'provenance'],
        `must be a label or a list of labels (${PROVENANCE_LABELS.join(', ')})`,
      );
    }
    labels.forEach((label, labelIndex) => {
      if (!(PROVENANCE_LABELS as readonly unknown[]).includes(label)) {
        fail(
          ['never_allow_with', index, 'provenance', ...(typeof raw === 'string' ? [] : [labelIndex])],
          `unknown provenance label ${JSON.stringify(label)}`,
        );
      }
    });
    return { action: action as string, provenance: labels as ProvenanceLabel[] };
  });
  return Object.freeze({ always_deny: always, never_allow_with: never, must_escalate: must });
}

/**
 * Reads an assertions file (YAML, or JSON with a `.json` extension) through @ape/policy's loader
 * (`readPolicyData`), with the same guards as policies: size cap, depth and key limits, one
 * document, no custom tags, unique keys, no prototype keys; and no aliases at all.
 *
 * @throws PolicyError (`POLICY_INVALID`) with `details.file` (and `details.line` when known); an
 * unreadable file too (with `details.unreadable: true`).
 */
export function loadAssertions(file: string): PolicyAssertions {
  const read: PolicyData = readPolicyData(file, READ_OPTIONS);
  if (!read.ok) {
    const first = read.findings[0];
    const unreadable = first?.code === 'FILE_UNREADABLE';
    const line = first?.line;
    const message = unreadable
      ? `cannot read the assertions file: ${first.message.replace(/^cannot read the policy file: /, '')}`
      : (first?.message ?? 'not a valid assertions file');
    throw new PolicyError(`${file}${line === undefined ? '' : `:${line}`}: ${message}`, {
      file,
      ...(line === undefined ? {} : { line }),
      ...(unreadable ? { unreadable: true } : {}),
      findings: read.findings,
    });
  }
  return checkAssertions(read.value, file, (path) => read.locate(path)?.line);
}
