import type { Clock } from '@ape/core';

/** Failed sign-ins one name may have per window before further attempts are refused unchecked. */
export const MAX_FAILED_SIGN_INS = 10;
/** The window, in milliseconds. */
export const SIGN_IN_WINDOW_MS = 60_000;
const MAX_TRACKED_NAMES = 10_000;

/** @internal Counts failed sign-ins per name, so a secret cannot be guessed at full speed. */
export interface LoginThrottle {
  /** Milliseconds until `name` may try again, or 0. */
  retryAfter(name: string): number;
  failed(name: string): void;
  succeeded(name: string): void;
}

/** @internal Creates the throttle of one console. */
export function createLoginThrottle(clock: Clock): LoginThrottle {
  const failures = new Map<string, { count: number; since: number }>();
  return {
    retryAfter(name) {
      const entry = failures.get(name);
      if (entry === undefined) return 0;
      const left = entry.since + SIGN_IN_WINDOW_MS - clock.now();
      if (left <= 0) {
        failures.delete(name);
        return 0;
      }
      return entry.count >= MAX_FAILED_SIGN_INS ? left : 0;
    },
    failed(name) {
      const now = clock.now();
      const entry = failures.get(name);
      if (entry === undefined || entry.since + SIGN_IN_WINDOW_MS <= now) {
        // Bounded memory: forget the oldest name first.
        if (failures.size >= MAX_TRACKED_NAMES) failures.delete(failures.keys().next().value ?? '');
        failures.set(name, { count: 1, since: now });
        return;
      }
      entry.count++;
    },
    succeeded(name) {
      failures.delete(name);
    },
  };
}
