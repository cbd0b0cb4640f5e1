import { readFileSync, statSync } from 'node:fs';
import { CommandFailure } from './command-failure.js';
import { EXIT_CODES } from './exit-codes.js';

/** @internal Files the CLI reads as JSON (intents, batches) are capped at this many bytes: 64 MiB. */
export const MAX_INPUT_FILE_BYTES = 64 * 1024 * 1024;

/**
 * @internal The CLI's one door for JSON typed by the user (`--args`, batch lines, intent files).
 * `JSON.parse` defines every key as an own property, so `__proto__` in the input never reaches a
 * prototype. A syntax error becomes a `CommandFailure` (exit 2) naming `what`.
 */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CommandFailure(`${what} is not valid JSON: ${reason}`, EXIT_CODES.CANNOT_RUN);
  }
}

/** @internal True for a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @internal Parses `text` and requires a JSON object. */
export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  const value = parseJson(text, what);
  if (!isJsonObject(value)) {
    throw new CommandFailure(
      `${what} must be a JSON object, such as '{"path":"/tmp/a.txt"}'`,
      EXIT_CODES.CANNOT_RUN,
    );
  }
  return value;
}

/** @internal Reads a UTF-8 text file given on the command line; failures exit 2 naming the file. */
export function readInputFile(path: string, given: string): string {
  try {
    const size = statSync(path).size;
    if (size > MAX_INPUT_FILE_BYTES) {
      throw new CommandFailure(`${given} is ${size} bytes, over the limit of ${MAX_INPUT_FILE_BYTES}`);
    }
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof CommandFailure) throw error;
    throw new CommandFailure(
      `cannot read ${given}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
