import { ArgumentsError } from '../errors.js';
import type { Revocation, RevocationSubject, RevocationTarget } from '../ports/revocation-feed.js';

const MAX_TEXT_LENGTH = 1_000;

function checkText(where: string, field: string, value: unknown, optional: boolean): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > MAX_TEXT_LENGTH) {
    throw new ArgumentsError(
      `${where}: "${field}" must be a non-empty string of at most ${MAX_TEXT_LENGTH} characters.`,
      { field },
    );
  }
  return value;
}

/**
 * Checks a {@link RevocationTarget} and returns a frozen copy holding only its fields.
 * @throws ArgumentsError (`ARGS_INVALID`) naming the field, also when both `session` and `lineage` are given.
 */
export function checkRevocationTarget(where: string, value: unknown): RevocationTarget {
  if (typeof value !== 'object' || value === null) {
    throw new ArgumentsError(`${where}: the target must be an object { tenant, lineage?, session? }.`, {
      field: 'target',
    });
  }
  const fields = value as Record<string, unknown>;
  const tenant = checkText(where, 'tenant', fields['tenant'], false) as string;
  const lineage = checkText(where, 'lineage', fields['lineage'], true);
  const session = checkText(where, 'session', fields['session'], true);
  if (lineage !== undefined && session !== undefined) {
    throw new ArgumentsError(
      `${where}: give "session" or "lineage", not both: a target is one session, one lineage or the whole tenant.`,
      { field: 'session' },
    );
  }
  if (session !== undefined) return Object.freeze({ tenant, session });
  if (lineage !== undefined) return Object.freeze({ tenant, lineage });
  return Object.freeze({ tenant });
}

/** Checks the `reason` and `revokedBy` of a revocation. @throws ArgumentsError (`ARGS_INVALID`). */
export function checkRevocationDetails(
  where: string,
  value: unknown,
): { readonly reason: string; readonly revokedBy: string } {
  const fields = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  return Object.freeze({
    reason: checkText(where, 'reason', fields['reason'], false) as string,
    revokedBy: checkText(where, 'revokedBy', fields['revokedBy'], false) as string,
  });
}

function lengthPrefixed(text: string): string {
  return `${text.length}:${text}`;
}

/**
 * A unique string for a target, unambiguous for any tenant, lineage and session text (each part is
 * length-prefixed, so no choice of characters lets one tenant's target collide with another's).
 */
export function revocationTargetKey(target: RevocationTarget): string {
  if (target.session !== undefined) return `s:${lengthPrefixed(target.tenant)}${target.session}`;
  if (target.lineage !== undefined) return `l:${lengthPrefixed(target.tenant)}${target.lineage}`;
  return `t:${target.tenant}`;
}

/**
 * The revocation that stops `subject`, if any: the tenant's, then the lineage's (when the subject
 * names one), then the session's. `lookup` reads one target key from the caller's view.
 */
export function findRevocation(
  lookup: (key: string) => Revocation | undefined,
  subject: RevocationSubject,
): Revocation | undefined {
  return (
    lookup(revocationTargetKey({ tenant: subject.tenant })) ??
    (subject.lineage === undefined
      ? undefined
      : lookup(revocationTargetKey({ tenant: subject.tenant, lineage: subject.lineage }))) ??
    lookup(revocationTargetKey({ tenant: subject.tenant, session: subject.session }))
  );
}
