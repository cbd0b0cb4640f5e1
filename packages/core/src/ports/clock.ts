/**
 * The source of time for token expiry and audit timestamps. Inject a fake in tests.
 *
 * Contract: `now()` returns milliseconds since the Unix epoch and never goes backwards within one
 * runtime. If it throws, the runtime denies the step (fail closed).
 */
export interface Clock {
  now(): number;
}

/** The real clock (`Date.now`). */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
