import { readSource, formatOf } from './load.js';
import { resolveLimits } from './limits.js';
import { readPolicyText } from './read-text.js';
import type { PolicyFinding, PolicyLoadOptions, PolicySource } from './types.js';

/** Where a value of a document read by {@link readPolicyData} starts. */
export interface DataPosition {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/** The result of {@link readPolicyData}: never thrown, always returned. */
export type PolicyData =
  | {
      readonly ok: true;
      /** Plain JSON; objects have no prototype. */
      readonly value: unknown;
      /** The file it came from, when it came from a file. */
      readonly file?: string;
      /** Where the value at a JSON path (`$.never_allow_with[0].action`) starts, when known. */
      locate(path: string): DataPosition | undefined;
    }
  | {
      readonly ok: false;
      /** The problems, with the same codes as for policies (`FILE_UNREADABLE`, `YAML_SYNTAX`, `JSON_SYNTAX`, `LIMIT_*`, …). */
      readonly findings: readonly PolicyFinding[];
    };

/**
 * Reads a YAML or JSON file (or `{ text, format?, filename? }`) that travels with a policy, such
 * as `@ape/verify`'s assertions, through the policy loader's hardened reader: the same size,
 * depth, alias, key and node limits, no custom tags, directives or second documents, unique keys,
 * no prototype keys. Only the reading is shared: the caller checks the shape of the value.
 */
export function readPolicyData(source: string | PolicySource, options?: PolicyLoadOptions): PolicyData {
  const read = readSource(source, options);
  if ('findings' in read) return Object.freeze({ ok: false, findings: Object.freeze(read.findings) });
  const parsed = readPolicyText(read.text, formatOf(source), read.file, resolveLimits(options?.limits));
  if (!parsed.ok) return Object.freeze({ ok: false, findings: parsed.findings });
  const sourceMap = parsed.sourceMap;
  return Object.freeze({
    ok: true,
    value: parsed.value,
    ...(read.file === undefined ? {} : { file: read.file }),
    locate: (path: string) => sourceMap.locate(path),
  });
}
