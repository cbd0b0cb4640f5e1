import { PolicyError } from '@ape/core';
import type { PolicyFinding } from './types.js';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** @internal Keys that could reach an object prototype; rejected everywhere in a policy (YAML, JSON or a value). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** @internal Appends one key to a JSON path: `$.a`, `$["x-ape-path"]`. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** @internal Converts a JSON Pointer (`/rules/0/effect`) into a JSON path (`$.rules[0].effect`). */
export function pointerToPath(pointer: string): string {
  if (pointer === '') return '$';
  let path = '$';
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = /^(0|[1-9]\d*)$/.test(segment) ? childPath(path, Number(segment)) : childPath(path, segment);
  }
  return path;
}

/** Formats one finding as `file:line:column: $.path: message` (parts that are unknown are left out). */
export function formatFinding(finding: PolicyFinding): string {
  let where = '';
  if (finding.file !== undefined) where += finding.file;
  if (finding.line !== undefined) where += `${where === '' ? '' : ':'}${finding.line}:${finding.column ?? 1}`;
  const head = where === '' ? '' : `${where}: `;
  const path = finding.path === undefined ? '' : `${finding.path}: `;
  return `${head}${path}${finding.message}`;
}

/** @internal True when some finding is an error. */
export function hasErrors(findings: readonly PolicyFinding[]): boolean {
  return findings.some((finding) => finding.severity === 'error');
}

/** @internal The `PolicyError` (`POLICY_INVALID`) for a list of findings. */
export function policyError(findings: readonly PolicyFinding[], file: string | undefined): PolicyError {
  const errors = findings.filter((finding) => finding.severity === 'error');
  const listed = errors.length > 0 ? errors : findings;
  const subject = file === undefined ? 'Invalid policy' : `Invalid policy ${file}`;
  const message = `${subject} (${listed.length} problem${listed.length === 1 ? '' : 's'}):\n${listed
    .map((finding) => `  ${formatFinding(finding)} [${finding.code}]`)
    .join('\n')}`;
  return new PolicyError(message, file === undefined ? { findings } : { file, findings });
}
