import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ActionRequest, Decision, ProvenanceLabel } from '@ape/core';
import schema from '../schema/policy-test-v1.json';
import { childPath, pointerToPath } from './findings.js';
import { validatePolicyTestDocument } from './generated/policy-test-document.js';
import { readPolicyData } from './read-data.js';
import { allowedKeys, plainSchemaMessage } from './schema-messages.js';
import { didYouMean } from './suggest.js';
import type { CompiledPolicy, PolicyFinding, PolicyLoadOptions, PolicySource } from './types.js';

/** The policy test file JSON Schema (draft 2020-12), also published as `@ape/policy/schema/policy-test-v1.json`. */
export const policyTestSchema: Readonly<Record<string, unknown>> = schema;

/** The session id the requests of test cases carry when they give `previous_action` or `usage`. */
export const POLICY_TEST_SESSION_ID = 'ape-test';

/** What a test case expects the policy to answer. */
export interface PolicyTestExpectation {
  readonly decision: Decision;
  /** The rule ids that must produce the decision, in any order; `undefined`: not checked. */
  readonly rules?: readonly string[];
}

/** One case of a policy test file: a request and the decision expected for it. */
export interface PolicyTestCase {
  readonly name: string;
  /** The request as the policy sees it (defaults applied). */
  readonly request: ActionRequest;
  readonly expect: PolicyTestExpectation;
  /** Where the case was written, when known (1-based). */
  readonly line?: number;
}

/** A policy test file that passed its schema. */
export interface PolicyTestFile {
  /** The test file, when it came from a file. */
  readonly file?: string;
  /** The policy under test: `policy:` resolved against the test file's directory, or the sibling policy. */
  readonly policy: string;
  readonly cases: readonly PolicyTestCase[];
}

/** The result of {@link readPolicyTests}: never thrown, always returned. */
export type PolicyTestRead =
  | { readonly ok: true; readonly value: PolicyTestFile }
  | { readonly ok: false; readonly findings: readonly PolicyFinding[] };

/** The outcome of one case. */
export interface PolicyTestResult {
  readonly name: string;
  readonly passed: boolean;
  readonly expected: PolicyTestExpectation;
  readonly actual: {
    readonly decision: Decision;
    readonly rules: readonly string[];
    readonly reason: string;
  };
  readonly line?: number;
}

const TEST_SUFFIX = /\.test\.(ya?ml|json)$/i;

/** The policy a test file tests when it does not say: `x.test.yaml` → `x.yaml` (or `.yml`, `.json`) beside it. */
function siblingPolicy(file: string): string | undefined {
  if (!TEST_SUFFIX.test(file)) return undefined;
  const stem = join(dirname(file), basename(file).replace(TEST_SUFFIX, ''));
  const candidates = ['.yaml', '.yml', '.json'].map((extension) => `${stem}${extension}`);
  return candidates.find((candidate) => existsSync(candidate)) ?? candidates[0];
}

/**
 * Reads a policy test file (YAML, or JSON with a `.json` extension; or `{ text, format?, filename? }`)
 * through the policy loader's hardened reader (the same size, depth, alias and key limits) and checks
 * it against `schema/policy-test-v1.json`. Every problem is a finding with its line and column:
 * `UNKNOWN_KEY` (with the closest known key as a hint), `SCHEMA`, or the reader's codes
 * (`FILE_UNREADABLE`, `YAML_SYNTAX`, `DUPLICATE_KEY`, `LIMIT_*`, ...). Requests get the defaults of
 * `ape simulate`: `args: {}`, provenance `USER_TRUSTED`, tenant `default`.
 */
export function readPolicyTests(source: string | PolicySource, options?: PolicyLoadOptions): PolicyTestRead {
  const data = readPolicyData(source, options);
  if (!data.ok) return data;
  const file = data.file ?? options?.filename;
  const at = (path: string): Partial<PolicyFinding> => {
    const position = data.locate(path);
    return {
      ...(file === undefined ? {} : { file }),
      ...(position === undefined ? {} : { line: position.line, column: position.column }),
      path,
    };
  };
  // Compiled at build time (scripts/generate-validators.mjs): every error, strict, verbose.
  const validate = validatePolicyTestDocument;
  if (validate(data.value) !== true) {
    const findings = (validate.errors ?? []).map((error): PolicyFinding => {
      const path = pointerToPath(error.instancePath);
      if (error.keyword === 'additionalProperties') {
        const key = String((error.params as { additionalProperty?: unknown }).additionalProperty);
        const keyPath = childPath(path, key);
        const position = data.locate(`${keyPath}#key`);
        return {
          severity: 'error',
          code: 'UNKNOWN_KEY',
          message: `unknown key "${key}"${didYouMean(key, allowedKeys(error))}`,
          ...at(keyPath),
          ...(position === undefined ? {} : { line: position.line, column: position.column }),
        };
      }
      return { severity: 'error', code: 'SCHEMA', message: plainSchemaMessage(error), ...at(path) };
    });
    findings.sort(
      (left, right) => (left.line ?? 0) - (right.line ?? 0) || (left.column ?? 0) - (right.column ?? 0),
    );
    return Object.freeze({ ok: false, findings: Object.freeze(findings) });
  }
  const document = data.value as Record<string, unknown>;
  const given = document['policy'];
  const policy =
    typeof given === 'string'
      ? resolve(file === undefined ? '.' : dirname(file), given)
      : file === undefined
        ? undefined
        : siblingPolicy(file);
  if (policy === undefined) {
    return Object.freeze({
      ok: false,
      findings: Object.freeze([
        {
          severity: 'error',
          code: 'SCHEMA',
          message:
            'the file does not say which policy it tests: add "policy: <file>" or name it <policy>.test.yaml beside the policy',
          ...at('$'),
        } as PolicyFinding,
      ]),
    });
  }
  const cases = (document['cases'] as Record<string, unknown>[]).map((entry, index): PolicyTestCase => {
    const line = data.locate(childPath('$.cases', index))?.line;
    return {
      name: entry['name'] as string,
      request: toRequest(entry['request'] as Record<string, unknown>),
      expect: entry['expect'] as PolicyTestExpectation,
      ...(line === undefined ? {} : { line }),
    };
  });
  return Object.freeze({
    ok: true,
    value: Object.freeze({ ...(file === undefined ? {} : { file }), policy, cases: Object.freeze(cases) }),
  });
}

function toRequest(request: Record<string, unknown>): ActionRequest {
  const previous = request['previous_action'] as string | undefined;
  const usage = request['usage'] as Readonly<Record<string, number>> | undefined;
  const argProvenance = request['arg_provenance'] as Readonly<Record<string, ProvenanceLabel>> | undefined;
  return {
    tenant: (request['tenant'] as string | undefined) ?? 'default',
    action: request['action'] as string,
    args: (request['args'] as Readonly<Record<string, unknown>> | undefined) ?? {},
    provenance: (request['provenance'] as ProvenanceLabel | undefined) ?? 'USER_TRUSTED',
    ...(argProvenance === undefined ? {} : { argLabels: Object.freeze({ ...argProvenance }) }),
    ...(previous === undefined && usage === undefined
      ? {}
      : {
          session: {
            id: POLICY_TEST_SESSION_ID,
            ...(previous === undefined ? {} : { previousAction: previous }),
            ...(usage === undefined ? {} : { usage }),
          },
        }),
  };
}

/**
 * Runs test cases against a policy with `policy.simulate` (which never throws) and returns one
 * result per case, in order. A case passes when the decision is the expected one and, when the
 * case lists rule ids, the decision's rule ids are exactly those (in any order).
 */
export function runPolicyTests(
  policy: CompiledPolicy,
  cases: readonly PolicyTestCase[],
): readonly PolicyTestResult[] {
  return Object.freeze(
    cases.map((testCase): PolicyTestResult => {
      const decision = policy.simulate(testCase.request);
      const expected = testCase.expect;
      const rulesMatch =
        expected.rules === undefined ||
        (expected.rules.length === decision.rules.length &&
          expected.rules.every((rule) => decision.rules.includes(rule)));
      return Object.freeze({
        name: testCase.name,
        passed: decision.decision === expected.decision && rulesMatch,
        expected,
        actual: Object.freeze({
          decision: decision.decision,
          rules: Object.freeze([...decision.rules]),
          reason: decision.reason,
        }),
        ...(testCase.line === undefined ? {} : { line: testCase.line }),
      });
    }),
  );
}
