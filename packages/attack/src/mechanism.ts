import {
  ActionError,
  ApeError,
  ArgumentsError,
  AuditError,
  AuthorityExpiredError,
  CanonicalJsonError,
  ClockError,
  EscalationDeniedError,
  IntentError,
  PlanError,
  PolicyDenyError,
  ProvenanceError,
  RuntimeStateError,
  TenantIsolationError,
  UnauthorizedActionError,
} from '@ape/core';
import type { ExplainRow } from '@ape/policy';

/** @internal How each rule id of a policy is labelled in a mechanism: `limit`, `transition`, `provenance` or `policy`. */
export type RuleKinds = ReadonlyMap<string, string>;

const FAIL_CLOSED_CODES: ReadonlySet<string> = new Set([
  'POLICY_EVALUATION_FAILED',
  'AUTHORITY_FAILURE',
  'CLOCK_FAILURE',
  'USAGE_STORE_FAILURE',
  'USAGE_SCOPE_MISSING',
]);

/** @internal Reads the kind of every rule from a policy's `explain()` table (empty for other evaluators). */
export function ruleKindsOf(policy: unknown): RuleKinds {
  const kinds = new Map<string, string>();
  const explain = (policy as { explain?: unknown } | null)?.explain;
  if (typeof explain !== 'function') return kinds;
  let rows: readonly ExplainRow[];
  try {
    rows = explain.call(policy) as readonly ExplainRow[];
  } catch {
    return kinds;
  }
  for (const row of rows) {
    const kind =
      row.effect === 'limit'
        ? 'limit'
        : row.effect === 'transition'
          ? 'transition'
          : row.conditions.includes('provenance in')
            ? 'provenance'
            : 'policy';
    kinds.set(row.rule, kind);
  }
  return kinds;
}

/** @internal `policy:<id>`, `limit:<id>`, `transition:<id>`, `provenance:<id>`, `intent` or `default-deny` for each rule id. */
export function describeRules(rules: unknown, kinds: RuleKinds): string {
  if (!Array.isArray(rules) || rules.length === 0) return 'policy';
  const parts = rules.map((rule) => {
    const id = String(rule);
    if (id === 'default') return 'policy:default-deny';
    if (id.startsWith('intent.')) return `intent:${id.slice('intent.'.length)}`;
    return `${kinds.get(id) ?? 'policy'}:${id}`;
  });
  return [...new Set(parts)].join(',');
}

/**
 * @internal Names the check that stopped an attack from the typed error it raised. Returns
 * `undefined` for an error that is not an `ApeError` (an untyped error escaping a public API is
 * itself a failure the battery reports).
 */
export function mechanismOf(error: unknown, kinds: RuleKinds): string | undefined {
  if (!ApeError.isInstance(error)) return undefined;
  const details = error.details;
  // Read before the checks below: the subclasses are structurally equal, so TypeScript narrows to never.
  const errorCode = error.code;
  if (PolicyDenyError.isInstance(error)) {
    const code = details['code'];
    if (typeof code === 'string' && FAIL_CLOSED_CODES.has(code)) return `fail-closed:${code}`;
    return describeRules(details['rules'], kinds);
  }
  if (PlanError.isInstance(error)) {
    if (Array.isArray(details['rules'])) return `plan:${describeRules(details['rules'], kinds)}`;
    return 'plan:invalid';
  }
  if (UnauthorizedActionError.isInstance(error)) {
    const field = details['field'];
    if (field === 'token') return `token:${String(details['reason'] ?? 'no-authorisation')}`;
    if (field === 'provenance') return 'provenance:downgrade';
    return `token:binding:${String(field)}`;
  }
  if (AuthorityExpiredError.isInstance(error)) return 'token:expired';
  if (ClockError.isInstance(error)) return `fail-closed:${errorCode}`;
  if (TenantIsolationError.isInstance(error)) return 'tenant-isolation';
  if (RuntimeStateError.isInstance(error)) return 'state-machine';
  if (ProvenanceError.isInstance(error)) return 'provenance';
  if (EscalationDeniedError.isInstance(error)) return `escalation:${String(details['reason'] ?? 'denied')}`;
  if (AuditError.isInstance(error)) return 'fail-closed:audit';
  if (IntentError.isInstance(error)) return 'intent:invalid';
  if (ArgumentsError.isInstance(error)) return details['field'] === 'args' ? 'plan:fixed-args' : 'schema';
  if (ActionError.isInstance(error)) return 'tool-binding';
  if (CanonicalJsonError.isInstance(error)) return 'schema:non-json';
  return `error:${errorCode}`;
}
