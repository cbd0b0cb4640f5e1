import { PolicyError } from '@ape/core';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit } from 'yaml';

/** @internal The largest YAML file read by this package (assertion files are small). */
export const MAX_YAML_BYTES = 1024 * 1024;

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * @internal Parses YAML (or JSON) with the guards @ape/policy applies: a size cap, one document,
 * no aliases, no custom tags, unique keys, no prototype keys; objects come out without a
 * prototype. Errors name the file and line.
 *
 * @throws PolicyError (`POLICY_INVALID`) with `details: { file, line? }`.
 */
export function parseYamlSafely(text: string, file: string, format: 'yaml' | 'json' = 'yaml'): unknown {
  const fail = (message: string, line?: number): never => {
    throw new PolicyError(`${file}${line === undefined ? '' : `:${line}`}: ${message}`, {
      file,
      ...(line === undefined ? {} : { line }),
      format,
    });
  };
  if (Buffer.byteLength(text, 'utf8') > MAX_YAML_BYTES) fail(`larger than ${MAX_YAML_BYTES} bytes`);
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, {
    lineCounter,
    uniqueKeys: true,
    schema: 'core',
    prettyErrors: false,
  });
  if (!Array.isArray(documents)) return fail('not a YAML document');
  if (documents.length !== 1)
    fail(documents.length === 0 ? 'the file is empty' : 'more than one YAML document');
  const document = documents[0]!;
  const lineOf = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;
  const problem = document.errors[0];
  if (problem !== undefined)
    fail(problem.message.split('\n')[0] ?? 'YAML syntax error', lineOf(problem.pos[0]));
  visit(document, {
    Alias(_key, node) {
      fail('aliases are not accepted', lineOf(node.range?.[0]));
    },
    Node(_key, node) {
      if (node.tag !== undefined && !node.tag.startsWith('tag:yaml.org,2002:')) {
        fail(`the tag ${node.tag} is not accepted`, lineOf(node.range?.[0]));
      }
    },
    Pair(_key, pair) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (typeof key !== 'string')
        fail('mapping keys must be strings', lineOf(isScalar(pair.key) ? pair.key.range?.[0] : undefined));
      if (FORBIDDEN_KEYS.has(key as string))
        fail(
          `the key "${String(key)}" is not accepted`,
          lineOf(isScalar(pair.key) ? pair.key.range?.[0] : undefined),
        );
    },
  });
  const convert = (node: unknown): unknown => {
    if (isMap(node)) {
      const out: Record<string, unknown> = Object.create(null);
      for (const pair of node.items)
        out[String((pair.key as { value: unknown }).value)] = convert(pair.value);
      return out;
    }
    if (isSeq(node)) return node.items.map(convert);
    if (isScalar(node)) return node.value;
    return null;
  };
  return convert(document.contents);
}

/** @internal The 1-based line of the value at `path` in YAML text, when it can be found. */
export function lineOfPath(text: string, path: readonly (string | number)[]): number | undefined {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, uniqueKeys: true, schema: 'core' });
  if (!Array.isArray(documents) || documents[0] === undefined) return undefined;
  const node = documents[0].getIn(path, true) as { range?: [number, number, number] } | undefined;
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : lineCounter.linePos(offset).line;
}
