import type { UsageAcquireResult } from '../ports/usage-store.js';

/** @internal The time every contract call is made at. */
export const T0 = Date.UTC(2026, 0, 1);

/** @internal A runtime-shaped counter key. */
export function key(tenant: string, scope: string, id: string, limit: string): string {
  return `${tenant}\u0000${scope}\u0000${id}\u0000${limit}`;
}

/** @internal The reservation of an admitted acquisition; throws when it was refused. */
export function reservationOf(result: UsageAcquireResult) {
  if (!result.ok) throw new Error(`expected the store to admit the use; it refused ${result.key}`);
  return result.reservation;
}
