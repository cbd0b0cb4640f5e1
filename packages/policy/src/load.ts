import { readFileSync, statSync } from 'node:fs';

/** Policy files must be UTF-8: bytes that are not are refused, never replaced by U+FFFD. `ignoreBOM: false` strips a BOM. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
import { basename, extname } from 'node:path';
import { type CompileOutcome, compileDocument } from './compile.js';
import { hasErrors, policyError } from './findings.js';
import { resolveLimits } from './limits.js';
import { toPlainJson } from './plain-json.js';
import { readPolicyText } from './read-text.js';
import type {
  CompiledPolicy,
  PolicyFinding,
  PolicyLoadOptions,
  PolicySource,
  PolicyValidation,
} from './types.js';
import { messageOf } from '@ape/core';

function defaultNameOf(file: string | undefined, options: PolicyLoadOptions | undefined): string {
  if (options?.defaultName !== undefined) return options.defaultName;
  if (file === undefined) return 'unnamed';
  const name = basename(file, extname(file));
  return name === '' ? 'unnamed' : name;
}

/** @internal `.json` files and `{ format: 'json' }` are JSON; everything else is YAML. */
export function formatOf(source: PolicySource | string): 'yaml' | 'json' {
  if (typeof source === 'string') return extname(source).toLowerCase() === '.json' ? 'json' : 'yaml';
  return source.format ?? 'yaml';
}

/** @internal Reads a policy file under the size limit; a read failure is a `FILE_UNREADABLE` finding. */
export function readSource(
  source: PolicySource | string,
  options: PolicyLoadOptions | undefined,
): { text: string; file: string | undefined } | { findings: PolicyFinding[] } {
  if (typeof source !== 'string') {
    if (typeof source !== 'object' || source === null || typeof source.text !== 'string') {
      return {
        findings: [
          { severity: 'error', code: 'SCHEMA', message: 'the policy source must be a path or { text }' },
        ],
      };
    }
    return { text: source.text, file: source.filename ?? options?.filename };
  }
  const limits = resolveLimits(options?.limits);
  try {
    const size = statSync(source).size;
    if (size > limits.maxBytes) {
      return {
        findings: [
          {
            severity: 'error',
            code: 'LIMIT_SIZE',
            message: `the policy is ${size} bytes, over the limit of ${limits.maxBytes}`,
            file: source,
            path: '$',
          },
        ],
      };
    }
    const bytes = readFileSync(source);
    let text: string;
    try {
      text = STRICT_UTF8.decode(bytes);
    } catch {
      return {
        findings: [
          {
            severity: 'error',
            code: 'ENCODING',
            message: 'the policy file is not valid UTF-8',
            file: source,
            path: '$',
          },
        ],
      };
    }
    return { text, file: source };
  } catch (error) {
    const reason = messageOf(error);
    return {
      findings: [
        {
          severity: 'error',
          code: 'FILE_UNREADABLE',
          message: `cannot read the policy file: ${reason}`,
          file: source,
        },
      ],
    };
  }
}

function loadOutcome(
  source: PolicySource | string,
  options: PolicyLoadOptions | undefined,
): CompileOutcome & { file?: string } {
  const read = readSource(source, options);
  if ('findings' in read) {
    return typeof source === 'string'
      ? { findings: read.findings, file: source }
      : { findings: read.findings };
  }
  const limits = resolveLimits(options?.limits);
  const parsed = readPolicyText(read.text, formatOf(source), read.file, limits);
  const fileField = read.file === undefined ? {} : { file: read.file };
  if (!parsed.ok) return { findings: parsed.findings, ...fileField };
  const outcome = compileDocument(parsed.value, {
    file: read.file,
    sourceMap: parsed.sourceMap,
    limits,
    defaultName: defaultNameOf(read.file, options),
  });
  return { ...outcome, ...fileField };
}

/**
 * Loads a policy from a YAML or JSON file (`.json` is read as JSON, anything else as YAML) or from
 * `{ text, format?, filename? }`, and compiles it.
 *
 * @throws PolicyError (`POLICY_INVALID`) with `details: { file?, findings }`; its message lists
 * every finding as `file:line:column: $.path: message`. A file that cannot be read is a
 * `FILE_UNREADABLE` finding.
 */
export function loadPolicy(source: string | PolicySource, options?: PolicyLoadOptions): CompiledPolicy {
  const outcome = loadOutcome(source, options);
  if (outcome.policy === undefined || hasErrors(outcome.findings))
    throw policyError(outcome.findings, outcome.file);
  return outcome.policy;
}

/**
 * Validates a policy file or text without throwing: `{ ok, findings, policy? }`. A missing or
 * unreadable file is reported as a finding with code `FILE_UNREADABLE`, so a CLI can tell an
 * unreadable file (exit 2) apart from an invalid policy (exit 1).
 */
export function validatePolicy(source: string | PolicySource, options?: PolicyLoadOptions): PolicyValidation {
  let outcome: CompileOutcome;
  try {
    outcome = loadOutcome(source, options);
  } catch (error) {
    const message = messageOf(error);
    outcome = {
      findings: [{ severity: 'error', code: 'INTERNAL', message: `validation failed: ${message}` }],
    };
  }
  const ok = outcome.policy !== undefined && !hasErrors(outcome.findings);
  return Object.freeze({
    ok,
    findings: Object.freeze([...outcome.findings]),
    ...(ok && outcome.policy !== undefined ? { policy: outcome.policy } : {}),
  });
}

/**
 * Compiles a policy given as a JavaScript value (as if parsed from JSON). The value is copied,
 * never kept or frozen.
 *
 * @throws PolicyError (`POLICY_INVALID`) with `details: { file?, findings }`.
 */
export function compilePolicy(document: unknown, options?: PolicyLoadOptions): CompiledPolicy {
  const limits = resolveLimits(options?.limits);
  const file = options?.filename;
  const copied = toPlainJson(document, limits, file);
  if (copied.findings.length > 0) throw policyError(copied.findings, file);
  const outcome = compileDocument(copied.value, {
    file,
    sourceMap: undefined,
    limits,
    defaultName: defaultNameOf(file, options),
  });
  if (outcome.policy === undefined || hasErrors(outcome.findings)) throw policyError(outcome.findings, file);
  return outcome.policy;
}
