/**
 * What APE answers for each entry of the hostile corpus. `code` is the finding code `ape validate`
 * prints (and `@ape/policy` reports), `mentions` a word the one-line message must contain.
 */
export interface PolicyExpectation {
  readonly code: string;
  readonly mentions: string;
}

/** Committed files under `policies/` and generated ones (`generate.ts`): all refused, exit 1. */
export const POLICY_EXPECTATIONS: Readonly<Record<string, PolicyExpectation>> = {
  'alias-bomb.yaml': { code: 'LIMIT_NODES', mentions: 'alias' },
  'many-aliases.yaml': { code: 'LIMIT_ALIASES', mentions: 'alias' },
  'alias-cycle.yaml': { code: 'YAML_SYNTAX', mentions: 'alias' },
  'depth-bomb-flow.yaml': { code: 'LIMIT_DEPTH', mentions: 'nest' },
  'depth-bomb-block.yaml': { code: 'LIMIT_DEPTH', mentions: 'nest' },
  'depth-bomb.json': { code: 'LIMIT_DEPTH', mentions: 'nest' },
  'quadratic-keys.yaml': { code: 'LIMIT_KEYS', mentions: 'keys' },
  'huge-scalar.yaml': { code: 'LIMIT_SIZE', mentions: 'bytes' },
  'duplicate-keys.yaml': { code: 'DUPLICATE_KEY', mentions: 'unique' },
  'prototype-key.yaml': { code: 'UNKNOWN_KEY', mentions: '__proto__' },
  'constructor-prototype.json': { code: 'UNKNOWN_KEY', mentions: 'constructor' },
  // YAML 1.1 booleans: APE reads YAML 1.2 (core schema), where yes/no/on/off are strings.
  'yaml11-boolean-version.yaml': { code: 'SCHEMA', mentions: 'version' },
  'yaml11-boolean-field.yaml': { code: 'SCHEMA', mentions: 'provenance' },
  'tag-custom.yaml': { code: 'TAG', mentions: '!custom' },
  'tag-python.yaml': { code: 'TAG', mentions: 'python' },
  'tag-binary.yaml': { code: 'TAG', mentions: 'binary' },
  // Merge keys are not YAML 1.2: "<<" is an ordinary (unknown) key.
  'merge-key.yaml': { code: 'UNKNOWN_KEY', mentions: '<<' },
  'multi-document.yaml': { code: 'MULTI_DOCUMENT', mentions: 'document' },
  'yaml-directive.yaml': { code: 'DIRECTIVE', mentions: '%YAML' },
  'huge-number-version.yaml': { code: 'SCHEMA', mentions: 'finite' },
  'huge-number-limit.yaml': { code: 'SCHEMA', mentions: 'max_calls' },
  'huge-integer-limit.yaml': { code: 'SCHEMA', mentions: 'max_calls' },
  // Bytes that are not UTF-8 are refused before parsing, never replaced by U+FFFD.
  'invalid-utf8.yaml': { code: 'ENCODING', mentions: 'UTF-8' },
};

/** Intent files (`intents/`): `createIntent` throws INTENT_INVALID; `ape simulate --intent` exits 2. */
export const INTENT_FILES: readonly string[] = [
  'prototype-key.json',
  'allowed-and-forbidden.json',
  'homoglyph-action.json',
  'trailing-space-action.json',
  'wrong-type.json',
  'huge-number.json',
];

/** Plan files (`plans/`): `createPlan` throws PLAN_INVALID. */
export const PLAN_FILES: readonly string[] = [
  'empty.json',
  'prototype-key.json',
  'unknown-field.json',
  'homoglyph-action.json',
  'nul-action.json',
  'args-not-object.json',
  'extra-top-level.json',
];

/** Audit log tampering (generated from a real session): `ape audit verify` exits 1 naming the problem. */
export const AUDIT_EXPECTATIONS: Readonly<Record<string, string>> = {
  'edited.jsonl': 'edited',
  'dropped.jsonl': 'dropped',
  'reordered.jsonl': 'reordered',
  'duplicated.jsonl': 'duplicated',
  'bad-genesis.jsonl': 'bad-genesis',
  'malformed.jsonl': 'malformed',
  'prototype-key.jsonl': 'malformed',
  'invalid-utf8.jsonl': 'malformed',
  'huge-line.jsonl': 'malformed',
};
