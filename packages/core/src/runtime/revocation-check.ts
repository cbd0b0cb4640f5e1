import { PolicyDenyError } from '../errors.js';
import type { RevocationStatus } from '../ports/revocation-feed.js';
import type { PolicyDecision } from '../types.js';
import type { PreparedCall } from './prepared-call.js';
import type { Session } from './session.js';

/** The `code` of a DENY because the session, its lineage or its tenant is revoked. */
export const REVOKED_CODE = 'REVOKED';

/** The `code` of a DENY because the revocation feed cannot vouch for the call (its view is stale). */
export const REVOCATION_STALE_CODE = 'REVOCATION_STALE';

function statusOf(session: Session): RevocationStatus | undefined {
  const feed = session.config.revocations;
  if (feed === undefined) return undefined;
  const { tenant, sessionId, lineage } = session.config;
  try {
    const status = feed.check(
      lineage === undefined ? { tenant, session: sessionId } : { tenant, session: sessionId, lineage },
    );
    if (typeof status === 'object' && status !== null && (status.ok === true || status.ok === false))
      return status;
    throw new Error('check answered something that is not a RevocationStatus');
  } catch {
    // A feed that cannot answer cannot vouch for the call.
    return Object.freeze({ ok: false, reason: 'stale', ageMs: Number.POSITIVE_INFINITY, boundMs: 0 });
  }
}

/**
 * @internal The DENY of a call the revocation feed stops, or `undefined` when it lets the call
 * through (or there is no feed). Synchronous and never throws: a failing feed is a DENY.
 */
export function revocationDenial(session: Session): PolicyDecision | undefined {
  const status = statusOf(session);
  if (status === undefined || status.ok) return undefined;
  if (status.reason === 'revoked') {
    const { target, reason, revokedBy } = status.revocation;
    const what =
      target.session !== undefined
        ? 'this session'
        : target.lineage !== undefined
          ? `lineage "${target.lineage}"`
          : `tenant "${target.tenant}"`;
    return Object.freeze({
      decision: 'DENY',
      rules: Object.freeze([]),
      reason: `Denied: ${what} was revoked by ${revokedBy} (${reason}).`,
      policy: session.policyDigest,
      code: REVOKED_CODE,
    });
  }
  return Object.freeze({
    decision: 'DENY',
    rules: Object.freeze([]),
    reason: `Denied because the revocation feed cannot vouch for this call (its view is older than its bound of ${status.boundMs} ms); failing closed.`,
    policy: session.policyDigest,
    code: REVOCATION_STALE_CODE,
  });
}

/**
 * @internal The check before a token is issued and before it is consumed (enforce mode): a revoked
 * or unvouched call revokes the session's tokens (audited as `token.revoked` with the code and the
 * stage) and rejects with `PolicyDenyError`; the tool does not run. Returns `undefined` when there
 * is nothing to refuse (almost every call), so the gate awaits nothing then.
 */
export function refuseIfRevoked(
  session: Session,
  call: PreparedCall,
  stage: 'issue' | 'consume',
): Promise<never> | undefined {
  if (session.config.mode !== 'enforce') return undefined;
  const denial = revocationDenial(session);
  if (denial === undefined) return undefined;
  return refuse(session, call, stage, denial);
}

async function refuse(
  session: Session,
  call: PreparedCall,
  stage: 'issue' | 'consume',
  denial: PolicyDecision,
): Promise<never> {
  session.voidAuthorizations();
  await session.revokeSessionTokens(
    'policy_violation',
    { stepIndex: call.index, code: denial.code, stage },
    true,
  );
  throw new PolicyDenyError(
    `Step ${call.index} ("${call.action}") is denied before the token is ${stage === 'issue' ? 'issued' : 'consumed'}: ${denial.reason}`,
    {
      step: call.index,
      action: call.action,
      reason: denial.reason,
      code: denial.code,
      stage,
    },
  );
}
