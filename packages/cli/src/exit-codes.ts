/**
 * The exit codes of the `ape` command. They are a contract: scripts and CI jobs branch on them.
 *
 * - `0` success;
 * - `1` a finding about the input: an invalid policy, a tampered audit log, a failed check, an
 *   approval that did not count (unknown or already settled request), nothing to lift;
 * - `2` the command could not run: a missing or unreadable file, a bad flag or argument, an unknown
 *   command, bad JSON in `--args`, an unknown provenance label, Redis unreachable for a fleet command,
 *   or an unexpected internal error.
 */
export const EXIT_CODES = Object.freeze({
  OK: 0,
  FINDING: 1,
  CANNOT_RUN: 2,
} as const);

/** One of the values of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
