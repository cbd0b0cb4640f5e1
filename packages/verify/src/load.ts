import { PolicyError } from '@ape/core';
import {
  type CompiledPolicy,
  compilePolicy,
  type PolicyDefinition,
  type PolicyLoadOptions,
  type PolicySource,
  validatePolicy,
} from '@ape/policy';

/**
 * A policy ready for verification: the compiled evaluator (used to re-check every counterexample)
 * and the rule model it was compiled from (what the SMT encoding reads). Both come from one load by
 * `@ape/policy`, so the encoding and the evaluator see the same rules and rule ids.
 */
export interface VerifiablePolicy {
  readonly policy: CompiledPolicy;
  /** The policy's rule model: `policy.definition` (a test may pair another one to check the cross-check). */
  readonly definition: PolicyDefinition;
  /** The file it came from, when it came from a file. */
  readonly file?: string;
}

/**
 * Loads a policy file (or `{ text, format?, filename? }`) for verification through @ape/policy's
 * hardened loader (size, alias, depth and key limits, duplicate keys, unknown keys, unsafe
 * patterns, lint); the text is read once, by that loader.
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
  return Object.freeze({ policy, definition: policy.definition, ...(file === undefined ? {} : { file }) });
}

/**
 * Compiles a policy given as a JavaScript value (as `compilePolicy` of @ape/policy does) for
 * verification.
 *
 * @throws PolicyError (`POLICY_INVALID`) with `details: { file?, findings }`.
 */
export function verifiablePolicyFromDocument(
  document: unknown,
  options?: PolicyLoadOptions,
): VerifiablePolicy {
  const policy = compilePolicy(document, options);
  return Object.freeze({
    policy,
    definition: policy.definition,
    ...(options?.filename === undefined ? {} : { file: options.filename }),
  });
}
