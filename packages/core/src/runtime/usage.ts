import type {
  UsageBeginRequest,
  UsageBeginResult,
  UsageCounter,
  UsageLimit,
  UsagePreviousWrite,
  UsageReservation,
  UsageStore,
  UsageUndoRequest,
} from '../ports/usage-store.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { PolicyDecision } from '../types.js';
import { messageOf } from '../errors.js';

/** The `code` of a DENY because the usage store threw, rejected or did not answer in time. */
export const USAGE_STORE_FAILURE_CODE = 'USAGE_STORE_FAILURE';

/** The `code` of a DENY because a limit is counted per lineage and the runtime has no `lineage`. */
export const USAGE_SCOPE_MISSING_CODE = 'USAGE_SCOPE_MISSING';

/** @internal Where one runtime's usage lives in the store: the key parts of its scopes. */
export interface UsageScopes {
  readonly tenant: string;
  /** `continuesSession ?? sessionId`. */
  readonly session: string;
  readonly lineage: string | undefined;
}

const NUL = '\u0000';

/** @internal The store key of `limit` for these scopes, or `undefined` when its scope id is missing. */
export function usageKey(scopes: UsageScopes, limit: UsageLimit): string | undefined {
  const id =
    limit.scope === 'session'
      ? scopes.session
      : limit.scope === 'lineage'
        ? scopes.lineage
        : limit.scope === 'tenant'
          ? scopes.tenant
          : undefined;
  if (id === undefined) return undefined;
  return `${scopes.tenant}${NUL}${limit.scope}${NUL}${id}${NUL}${limit.id}`;
}

/** @internal The key of the previous action: the lineage's when there is one, else the session's. */
export function previousActionKey(scopes: UsageScopes): string {
  return scopes.lineage === undefined
    ? `${scopes.tenant}${NUL}session${NUL}${scopes.session}${NUL}previous`
    : `${scopes.tenant}${NUL}lineage${NUL}${scopes.lineage}${NUL}previous`;
}

/** @internal The limits `action` counts against, failing closed (a throw or a malformed answer is a DENY). */
export function limitsOf(policy: PolicyEvaluator, tenant: string, action: string): readonly UsageLimit[] {
  if (typeof policy.limitsFor !== 'function') return NO_LIMITS;
  const limits: unknown = policy.limitsFor(tenant, action);
  if (!Array.isArray(limits)) throw new Error('limitsFor returned something that is not an array');
  return limits as readonly UsageLimit[];
}

const NO_LIMITS: readonly UsageLimit[] = Object.freeze([]);

/** @internal The store counters of `limits`, or the first limit whose scope this runtime cannot key. */
export function countersOf(
  scopes: UsageScopes,
  limits: readonly UsageLimit[],
): { readonly counters: readonly UsageCounter[] } | { readonly missing: UsageLimit } {
  const counters: UsageCounter[] = [];
  for (const limit of limits) {
    const key = usageKey(scopes, limit);
    if (key === undefined) return { missing: limit };
    counters.push(
      limit.windowMs === undefined
        ? { key, max: limit.max }
        : { key, max: limit.max, windowMs: limit.windowMs },
    );
  }
  return { counters };
}

class UsageTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`the usage store did not answer ${what} within ${ms} ms`);
    this.name = 'UsageTimeoutError';
  }
}

/** @internal Whether a store answered with a promise (to await) rather than a value. */
export function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * @internal Calls the store, bounding the wait by `ms` (real time). A synchronous answer is returned
 * as is (no timer on the in-memory hot path); a throw, a rejection or a timeout rejects.
 */
export function bounded<T>(work: () => T | Promise<T>, ms: number, what: string): T | Promise<T> {
  const result = work();
  if (!isThenable(result)) return result;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new UsageTimeoutError(what, ms)), ms);
    timer.unref?.();
    result.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * @internal The counters of the limits `action` counts against, or the DENY that stops it (limits
 * unreadable: `POLICY_FAILURE`; a scope this runtime cannot key: `USAGE_SCOPE_MISSING`). The DENY
 * is returned only after the policy was asked, so a policy DENY keeps its precedence.
 */
export function countedLimits(
  policy: PolicyEvaluator,
  scopes: UsageScopes,
  action: string,
  digest: string,
  policyFailureCode: string,
):
  | { readonly limits: readonly UsageLimit[]; readonly counters: readonly UsageCounter[] }
  | { readonly denial: PolicyDecision } {
  let limits: readonly UsageLimit[];
  try {
    limits = limitsOf(policy, scopes.tenant, action);
  } catch (error) {
    return {
      denial: Object.freeze({
        decision: 'DENY',
        rules: Object.freeze([]),
        reason: `Denied because the policy's limits could not be read (${messageOf(error)}); failing closed.`,
        policy: digest,
        code: policyFailureCode,
      }),
    };
  }
  if (limits.length === 0) return { limits, counters: NO_COUNTERS };
  const keyed = countersOf(scopes, limits);
  if ('missing' in keyed) return { denial: scopeMissingDenial(keyed.missing, digest) };
  return { limits, counters: keyed.counters };
}

const NO_COUNTERS: readonly UsageCounter[] = Object.freeze([]);

/** @internal Whether `store` does a gated call's work in one step (`begin` and `undo`). */
export function beginsInOneStep(
  store: UsageStore,
): store is UsageStore & Required<Pick<UsageStore, 'begin' | 'undo'>> {
  return typeof store.begin === 'function' && typeof store.undo === 'function' && store.inProcess !== true;
}

function malformedAnswer(what: string): Error {
  return new Error(`begin answered ${what}`);
}

/**
 * @internal The store's `begin`, bounded, its answer checked: a throw, a rejection, a timeout or a
 * malformed answer rejects (the caller denies). A write is required exactly when `action` was
 * given and the acquisition succeeded.
 */
export async function beginChecked(
  store: UsageStore,
  request: UsageBeginRequest,
  ms: number,
): Promise<UsageBeginResult> {
  const begin = store.begin;
  if (typeof begin !== 'function') throw new Error('the usage store has no begin');
  const answer: unknown = await bounded(() => begin.call(store, request), ms, 'begin');
  if (typeof answer !== 'object' || answer === null) throw malformedAnswer('something that is not an answer');
  const { previous, result, written } = answer as Partial<UsageBeginResult>;
  if (previous !== undefined && typeof previous !== 'string')
    throw malformedAnswer('a previous action that is not a string');
  if (typeof result !== 'object' || result === null || typeof result.ok !== 'boolean')
    throw malformedAnswer('an acquisition that is not an answer');
  if (result.ok && (typeof result.reservation !== 'object' || result.reservation === null))
    throw malformedAnswer('an acquisition without its reservation');
  const expectsWrite = result.ok && request.action !== undefined;
  if (expectsWrite !== (written !== undefined))
    throw malformedAnswer('a previous-action write it was not asked for, or none');
  if (written !== undefined && !isWrite(written, request.previousKey))
    throw malformedAnswer('a malformed previous-action write');
  return answer as UsageBeginResult;
}

function isWrite(written: UsagePreviousWrite, key: string): boolean {
  return (
    typeof written === 'object' &&
    written !== null &&
    written.key === key &&
    typeof written.version === 'string' &&
    (written.replaced === undefined || typeof written.replaced === 'string')
  );
}

/**
 * @internal Takes back a reservation and a previous-action write, bounded, never throwing: with
 * `undo` when the store has it (one round trip), else `release`. A failed undo keeps the use
 * counted and the action written (the safe side for budgets).
 */
export function undoQuietly(
  store: UsageStore,
  reservation: UsageReservation | undefined,
  written: NonNullable<UsageUndoRequest['written']> | undefined,
  ms: number,
): Promise<void> {
  if (written === undefined || !beginsInOneStep(store)) return releaseQuietly(store, reservation, ms);
  const request = reservation === undefined ? { written } : { reservation, written };
  try {
    return Promise.resolve(bounded(() => store.undo(request), ms, 'undo')).then(ignore, ignore);
  } catch {
    return Promise.resolve();
  }
}

/** @internal Releases a reservation, bounded, never throwing (a failed release keeps the use counted). */
export function releaseQuietly(
  store: UsageStore,
  reservation: UsageReservation | undefined,
  ms: number,
): Promise<void> {
  if (reservation === undefined) return Promise.resolve();
  try {
    return Promise.resolve(bounded(() => store.release(reservation), ms, 'release')).then(ignore, ignore);
  } catch {
    return Promise.resolve();
  }
}

function ignore(): void {}

const UNITS: readonly (readonly [number, string])[] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'm'],
  [1_000, 's'],
];

/** @internal `60000` → `1m`; a window that is not a whole number of a unit is shown in ms. */
export function formatWindow(ms: number): string {
  for (const [size, unit] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** @internal The sentence naming a limit: "limit reads allows 2 calls per session per 1m". */
export function describeLimit(limit: UsageLimit): string {
  const window = limit.windowMs === undefined ? '' : ` per ${formatWindow(limit.windowMs)}`;
  return `limit ${limit.id} allows ${limit.max} call${limit.max === 1 ? '' : 's'} per ${limit.scope}${window}`;
}

/** @internal The DENY of a call that a limit has no room for. */
export function limitDenial(limit: UsageLimit, used: number, digest: string): PolicyDecision {
  const because = limit.reason === undefined ? '' : ` (${limit.reason.replace(/[.\s]+$/, '')})`;
  return Object.freeze({
    decision: 'DENY',
    rules: Object.freeze([limit.id]),
    reason: `Denied: ${describeLimit(limit)}; ${used} used${because}.`,
    policy: digest,
  });
}

/** @internal The DENY of a call whose limit is counted per lineage when the runtime has none. */
export function scopeMissingDenial(limit: UsageLimit, digest: string): PolicyDecision {
  return Object.freeze({
    decision: 'DENY',
    rules: Object.freeze([limit.id]),
    reason: `Denied: limit ${limit.id} is counted per ${limit.scope}, and this runtime has no \`lineage\`; give the runtime a lineage id (and a shared usage store); failing closed.`,
    policy: digest,
    code: USAGE_SCOPE_MISSING_CODE,
  });
}

/** @internal The DENY of a call the usage store could not count. */
export function storeFailureDenial(error: unknown, digest: string): PolicyDecision {
  return Object.freeze({
    decision: 'DENY',
    rules: Object.freeze([]),
    reason: `Denied because the usage store failed (${messageOf(error)}); failing closed.`,
    policy: digest,
    code: USAGE_STORE_FAILURE_CODE,
  });
}
