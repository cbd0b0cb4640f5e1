import { hashCanonical, PolicyError } from '@ape/core';
import {
  type CompiledPolicy,
  compilePolicy,
  type PolicyLoadOptions,
  type PolicySource,
  validatePolicy,
} from '@ape/policy';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseYamlSafely } from './yaml-input.js';

/**
 * A policy ready for verification: the compiled evaluator (used to re-check every counterexample)
 * and the normalised document it was compiled from (what the SMT encoding reads).
 */
export interface VerifiablePolicy {
  readonly policy: CompiledPolicy;
  /** The document after normalisation (`version: 1`, `default: deny` and `name` filled in). */
  readonly document: Readonly<Record<string, unknown>>;
  /** The file it came from, when it came from a file. */
  readonly file?: string;
}

function normalise(document: Record<string, unknown>, policy: CompiledPolicy): Record<string, unknown> {
  return { ...document, version: 1, default: 'deny', name: policy.name };
}

function checkDigest(
  document: Record<string, unknown>,
  policy: CompiledPolicy,
  file: string | undefined,
): void {
  // The digest of @ape/policy is the hash of its normalised document: equal digests prove the
  // document read here is exactly the one the evaluator was compiled from.
  if (hashCanonical(document) !== policy.digest) {
    throw new PolicyError(
      `${file ?? 'the policy'}: the document read for verification differs from the compiled policy`,
      { ...(file === undefined ? {} : { file }) },
    );
  }
}

/**
 * Loads a policy file (or `{ text, format?, filename? }`) for verification. @ape/policy's hardened
 * loader validates and compiles it first (size, alias, depth and key limits, duplicate keys,
 * unknown keys, unsafe patterns); only text it accepted is then read again here to keep the
 * document, and the two are tied by the policy digest.
 *
 * @throws PolicyError (`POLICY_INVALID`) with `details: { file?, findings }` when the policy is not
 * valid or cannot be read (a `FILE_UNREADABLE` finding).
 */
export function loadVerifiablePolicy(
  source: string | PolicySource,
  options?: PolicyLoadOptions,
): VerifiablePolicy {
  const validation = validatePolicy(source, options);
  const file = typeof source === 'string' ? source : (source.filename ?? options?.filename);
  if (!validation.ok || validation.policy === undefined) {
    const errors = validation.findings.filter((finding) => finding.severity === 'error');
    const first = errors[0];
    throw new PolicyError(
      `${file ?? 'the policy'}: ${first === undefined ? 'not a valid policy' : `${first.line === undefined ? '' : `line ${first.line}: `}${first.message}`}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`,
      { ...(file === undefined ? {} : { file }), findings: validation.findings },
    );
  }
  const policy = validation.policy;
  const text = typeof source === 'string' ? readFileSync(source, 'utf8') : source.text;
  const format =
    typeof source === 'string' ? (extname(source).toLowerCase() === '.json' ? 'json' : 'yaml') : 'yaml';
  const parsed = parseYamlSafely(text, file ?? 'policy', format);
  const document = normalise(parsed as Record<string, unknown>, policy);
  checkDigest(document, policy, file);
  return Object.freeze({ policy, document, ...(file === undefined ? {} : { file }) });
}

/**
 * Compiles a policy given as a JavaScript value (as `compilePolicy` of @ape/policy does) and keeps
 * its normalised document for verification.
 *
 * @throws PolicyError (`POLICY_INVALID`) with `details: { file?, findings }`.
 */
export function verifiablePolicyFromDocument(
  document: unknown,
  options?: PolicyLoadOptions,
): VerifiablePolicy {
  const policy = compilePolicy(document, options);
  const copy = structuredClone(document) as Record<string, unknown>;
  const normalised = normalise(copy, policy);
  checkDigest(normalised, policy, options?.filename);
  return Object.freeze({
    policy,
    document: normalised,
    ...(options?.filename === undefined ? {} : { file: options.filename }),
  });
}
