import { readFileSync, statSync } from 'node:fs';
import { ConfigurationError, messageOf } from '@ape/core';

/** Suite files are capped at this many bytes: 4 MiB. */
export const MAX_SUITE_BYTES = 4 * 1024 * 1024;

/**
 * The benchmark's one door for JSON text: the size is checked with `stat` before anything is read,
 * then `JSON.parse` (which defines every key as an own property, so `__proto__` never reaches a
 * prototype); the caller validates the result against a closed JSON Schema.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the file when it is missing, too large or not JSON.
 */
export function readJsonFile(file: string, maxBytes: number = MAX_SUITE_BYTES): unknown {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > maxBytes) {
      throw new ConfigurationError(
        `${file} is ${size} bytes, over the limit of ${maxBytes}; split the suite.`,
        {
          file,
          field: 'size',
        },
      );
    }
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (ConfigurationError.isInstance(error)) throw error;
    throw new ConfigurationError(
      `Cannot read ${file}: ${messageOf(error)}.`,
      { file, field: 'file' },
      { cause: error },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(
      `${file} is not valid JSON: ${messageOf(error)}.`,
      { file, field: 'json' },
      { cause: error },
    );
  }
}
