/** The longest window a limit may have: 366 days, in milliseconds. */
export const MAX_LIMIT_WINDOW_MS = 366 * 24 * 60 * 60 * 1000;

const UNIT_MS: Readonly<Record<string, number>> = Object.freeze({
  s: 1000,
  m: 60 * 1000,
  h: 60 * 60 * 1000,
  d: 24 * 60 * 60 * 1000,
});

const DURATION = /^([1-9][0-9]{0,8})(s|m|h|d)$/;

/**
 * @internal The milliseconds of a limit window written as the schema accepts it (`30s`, `1m`, `1h`,
 * `1d`: a whole number of seconds, minutes, hours or days), or `undefined` when `text` is not such
 * a duration. The 366-day bound is checked by the caller, which reports where the window is.
 */
export function windowToMs(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}
