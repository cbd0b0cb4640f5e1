import type { Clock } from '../ports/clock.js';

/** A manually driven {@link Clock} for tests: time moves only when you say so. */
export class FakeClock implements Clock {
  #now: number;

  /** @param start milliseconds since the epoch; defaults to 2026-01-01T00:00:00.000Z. */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward by `ms` milliseconds (never backwards). */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError('FakeClock.advance takes a non-negative number of ms');
    this.#now += ms;
  }

  /** Sets the time; refuses to go backwards, as the Clock contract requires. */
  set(ms: number): void {
    if (!Number.isFinite(ms) || ms < this.#now)
      throw new RangeError('FakeClock.set cannot move time backwards');
    this.#now = ms;
  }
}
