import type { UsageCounter, UsageLimit, UsageReservation, UsageStore } from '../ports/usage-store.js';
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

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
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
