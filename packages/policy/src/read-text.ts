import {
  Alias,
  Composer,
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Parser,
  visit,
} from 'yaml';
import type { CST } from 'yaml';

type Token = CST.Token;
import { childPath, FORBIDDEN_KEYS } from './findings.js';
import { readBlockYaml } from './read-block-yaml.js';
import { readJsonText } from './read-json.js';
import { addLineStarts, Offsets, type ReadResult, readValue } from './source-offsets.js';
import type { PolicyFinding, PolicyLimits } from './types.js';

/** Tags of the YAML 1.2 core schema; any other tag is rejected. */
const CORE_TAGS = new Set(['!!str', '!!int', '!!float', '!!bool', '!!null', '!!map', '!!seq']);

interface ReadContext {
  readonly file: string | undefined;
  readonly limits: PolicyLimits;
  readonly lineCounter: LineCounter;
  readonly findings: PolicyFinding[];
}

/**
 * @internal Reads YAML or JSON policy text into plain JSON whose objects have no prototype.
 * JSON is read by its own strict reader (`readJsonText`), with the same checks and limits.
 *
 * Order matters for safety: size first, then a linear scan for nesting the parser would spend long
 * on. YAML in the common block shape is then read by `readBlockYaml` from the `yaml` lexer's tokens;
 * it declines anything it does not read exactly as the full path (`readComposedYaml`) does, and
 * that path reads it.
 */
export function readPolicyText(
  text: string,
  format: 'yaml' | 'json',
  file: string | undefined,
  limits: PolicyLimits,
): ReadResult {
  const findings: PolicyFinding[] = [];
  const base = file === undefined ? {} : { file };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    return {
      ok: false,
      findings: [
        {
          severity: 'error',
          code: 'LIMIT_SIZE',
          message: `the policy is ${bytes} bytes, over the limit of ${limits.maxBytes}`,
          ...base,
          path: '$',
        },
      ],
    };
  }
  if (format === 'json') return readJsonText(text, file, limits);
  const lineCounter = new LineCounter();
  const context: ReadContext = { file, limits, lineCounter, findings };
  const tooDeep = findExcessiveNesting(text, limits.maxDepth);
  if (tooDeep !== -1) {
    addLineStarts(lineCounter, text, tooDeep);
    addFinding(context, 'LIMIT_DEPTH', `nesting deeper than ${limits.maxDepth} levels`, tooDeep, undefined);
    return { ok: false, findings };
  }
  return readBlockYaml(text, limits) ?? readComposedYaml(text, file, limits);
}

/**
 * @internal The full path for YAML text under the size and nesting checks: a scan of the parser's
 * token tree (built without recursion) for depth, keys per mapping, aliases, tags, directives and
 * documents, and only then the composer (which recurses) and the conversion.
 */
export function readComposedYaml(text: string, file: string | undefined, limits: PolicyLimits): ReadResult {
  const findings: PolicyFinding[] = [];
  const lineCounter = new LineCounter();
  const context: ReadContext = { file, limits, lineCounter, findings };
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  scanTokens(tokens, context);
  if (findings.length > 0) return { ok: false, findings };

  const composer = new Composer({
    version: '1.2',
    schema: 'core',
    customTags: [],
    merge: false,
    uniqueKeys: true,
    strict: true,
    prettyErrors: false,
  });
  const documents = Array.from(composer.compose(tokens, true, text.length));
  const document = documents[0];
  if (documents.length !== 1 || document === undefined) {
    addFinding(context, 'MULTI_DOCUMENT', 'a policy file must hold exactly one YAML document', 0, '$');
    return { ok: false, findings };
  }
  for (const error of document.errors) {
    const code = error.code === 'DUPLICATE_KEY' ? 'DUPLICATE_KEY' : 'YAML_SYNTAX';
    addFinding(context, code, firstLine(error.message), error.pos[0], undefined);
  }
  for (const warning of document.warnings) {
    const code = warning.code === 'TAG_RESOLVE_FAILED' ? 'TAG' : 'YAML_SYNTAX';
    addFinding(context, code, firstLine(warning.message), warning.pos[0], undefined);
  }
  if (findings.length > 0) return { ok: false, findings };

  const offsets = new Offsets();
  const converter = new Converter(document, context, offsets);
  const value = converter.convert(document.contents, '$', 0);
  if (findings.length > 0) return { ok: false, findings };
  return readValue(value, offsets, lineCounter);
}

/**
 * A linear scan of the raw text, run before the YAML parser, that finds nesting the parser would
 * spend a long time on: flow collections (`[[[[…`, exact inside flow context, where quoted scalars
 * and comments are skipped) and compact nested sequences (`- - - …`). Returns the offset where the
 * nesting passes `maxDepth`, or -1. Deep block indentation is left to the token scan.
 */
function findExcessiveNesting(text: string, maxDepth: number): number {
  let depth = 0;
  let lineStart = true;
  let compact = 0;
  let previous = '';
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (character === '\n') {
      lineStart = true;
      compact = 0;
      previous = '';
      continue;
    }
    if (depth > 0) {
      if (character === '"') {
        index += 1;
        while (index < text.length && text[index] !== '"') index += text[index] === '\\' ? 2 : 1;
        continue;
      }
      if (character === "'") {
        index += 1;
        while (index < text.length && !(text[index] === "'" && text[index + 1] !== "'"))
          index += text[index] === "'" ? 2 : 1;
        continue;
      }
      if (character === '#' && (previous === ' ' || previous === '\t' || previous === '')) {
        while (index + 1 < text.length && text[index + 1] !== '\n') index += 1;
        continue;
      }
      if (character === '[' || character === '{') {
        depth += 1;
        if (depth > maxDepth) return index;
      } else if (character === ']' || character === '}') {
        depth -= 1;
      }
      previous = character;
      continue;
    }
    if (character === ' ' || character === '\t') {
      previous = character;
      continue;
    }
    const valueStart = lineStart || previous === ' ' || previous === '\t';
    const indicator = valueStart && (character === '-' || character === '?' || character === ':');
    if (indicator && (text[index + 1] === ' ' || text[index + 1] === '\t')) {
      if (lineStart && character !== ':') {
        compact += 1;
        if (compact > maxDepth) return index;
      }
      previous = ' ';
      index += 1;
      continue;
    }
    if (
      (character === '[' || character === '{') &&
      (lineStart || /[ \t]/.test(previous)) &&
      isValueStart(text, index)
    ) {
      depth = 1;
      if (depth + compact > maxDepth) return index;
    }
    lineStart = false;
    previous = character;
  }
  return -1;
}

/** Whether the bracket at `index` opens a flow collection (start of line or after `:`, `-`, `?`). */
function isValueStart(text: string, index: number): boolean {
  let cursor = index - 1;
  while (cursor >= 0 && (text[cursor] === ' ' || text[cursor] === '\t')) cursor -= 1;
  if (cursor < 0 || text[cursor] === '\n') return true;
  const before = text[cursor];
  return before === ':' || before === '-' || before === '?' || before === ',';
}

function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, '');
}

function addFinding(
  context: ReadContext,
  code: string,
  message: string,
  offset: number,
  path: string | undefined,
): void {
  const position = context.lineCounter.linePos(offset);
  context.findings.push({
    severity: 'error',
    code,
    message,
    ...(context.file === undefined ? {} : { file: context.file }),
    line: position.line,
    column: position.col,
    ...(path === undefined ? {} : { path }),
  });
}

interface PendingToken {
  readonly token: Token;
  readonly depth: number;
}

/** Walks the token tree with an explicit stack: no recursion, whatever the input's nesting. */
function scanTokens(tokens: readonly Token[], context: ReadContext): void {
  const { limits } = context;
  let documents = 0;
  let aliases = 0;
  let depthReported = false;
  const pending: PendingToken[] = [];
  for (const token of tokens) {
    if (token.type === 'document') {
      documents += 1;
      if (documents === 2) {
        addFinding(
          context,
          'MULTI_DOCUMENT',
          'a policy file must hold exactly one YAML document',
          token.offset,
          '$',
        );
      }
      checkProps(token.start, context);
      if (token.value !== undefined) pending.push({ token: token.value, depth: 0 });
    } else if (token.type === 'directive') {
      if (!/^%YAML\s+1\.2\s*$/.test(token.source)) {
        addFinding(
          context,
          'DIRECTIVE',
          `the directive "${token.source.trim()}" is not accepted`,
          token.offset,
          '$',
        );
      }
    }
  }
  while (pending.length > 0) {
    const { token, depth } = pending.pop()!;
    switch (token.type) {
      case 'alias':
        aliases += 1;
        if (aliases === limits.maxAliases + 1) {
          addFinding(
            context,
            'LIMIT_ALIASES',
            `more than ${limits.maxAliases} aliases (the limit protects against alias bombs)`,
            token.offset,
            undefined,
          );
        }
        break;
      case 'block-scalar':
        checkProps(token.props, context);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        if (depth + 1 > limits.maxDepth) {
          if (!depthReported) {
            depthReported = true;
            addFinding(
              context,
              'LIMIT_DEPTH',
              `nesting deeper than ${limits.maxDepth} levels`,
              token.offset,
              undefined,
            );
          }
          break;
        }
        const items = token.items;
        const entries = items.length > limits.maxKeysPerMapping ? countEntries(items) : items.length;
        if (entries > limits.maxKeysPerMapping) {
          addFinding(
            context,
            'LIMIT_KEYS',
            `a collection with ${entries} entries, over the limit of ${limits.maxKeysPerMapping}`,
            token.offset,
            undefined,
          );
          break;
        }
        for (const item of items) {
          checkProps(item.start, context);
          if (item.sep !== undefined) checkProps(item.sep, context);
          if (item.key !== undefined && item.key !== null)
            pending.push({ token: item.key, depth: depth + 1 });
          if (item.value !== undefined) pending.push({ token: item.value, depth: depth + 1 });
        }
        break;
      }
      default:
        break;
    }
  }
}

/**
 * The entries of a collection's token items: an item that holds only white space and comments (a
 * comment line after the last entry, indented like the entries) is not an entry.
 */
function countEntries(items: readonly CST.CollectionItem[]): number {
  let entries = 0;
  for (const item of items) {
    if (isEntry(item)) entries += 1;
  }
  return entries;
}

function isEntry(item: CST.CollectionItem): boolean {
  if ((item.key !== undefined && item.key !== null) || item.sep !== undefined) return true;
  if (item.value !== undefined) return true;
  return item.start.some(
    (token) => token.type !== 'space' && token.type !== 'comment' && token.type !== 'newline',
  );
}

function checkProps(props: readonly Token[], context: ReadContext): void {
  for (const prop of props) {
    if (prop.type === 'tag' && !CORE_TAGS.has(prop.source)) {
      addFinding(
        context,
        'TAG',
        `the tag ${prop.source} is not accepted (YAML 1.2 core schema only)`,
        prop.offset,
        undefined,
      );
    }
  }
}

/** Converts the composed YAML nodes to plain JSON with prototype-free objects, recording positions. */
class Converter {
  private nodes = 0;
  private nodesReported = false;

  /** Anchored nodes by name, so aliases resolve in O(1) (redefined anchors are refused). */
  private readonly anchors = new Map<string, unknown>();
  /** Anchored nodes being converted, to refuse an alias that points at its own ancestor. */
  private readonly active = new Set<unknown>();

  constructor(
    document: Document.Parsed,
    private readonly context: ReadContext,
    private readonly offsets: Offsets,
  ) {
    visit(document, {
      Node: (_key, node) => {
        const anchor = (node as { anchor?: unknown }).anchor;
        if (typeof anchor !== 'string') return;
        if (this.anchors.has(anchor)) {
          addFinding(
            context,
            'YAML_SYNTAX',
            `the anchor &${anchor} is defined twice`,
            offsetOf(node),
            undefined,
          );
        }
        this.anchors.set(anchor, node);
      },
    });
  }

  /** Converts `node`; its offset is recorded under `path` unless its sequence already recorded it (`placed`). */
  convert(node: unknown, path: string, depth: number, placed = false): unknown {
    if (node === null || node === undefined) return null;
    this.nodes += 1;
    if (this.nodes > this.context.limits.maxNodes) {
      if (!this.nodesReported) {
        this.nodesReported = true;
        addFinding(
          this.context,
          'LIMIT_NODES',
          `more than ${this.context.limits.maxNodes} values after alias expansion`,
          offsetOf(node),
          path,
        );
      }
      return null;
    }
    if (depth > this.context.limits.maxDepth) {
      addFinding(
        this.context,
        'LIMIT_DEPTH',
        `nesting deeper than ${this.context.limits.maxDepth} levels`,
        offsetOf(node),
        path,
      );
      return null;
    }
    if (!placed) this.offsets.byPath.set(path, offsetOf(node));
    if (node instanceof Alias) {
      const target = this.anchors.get(node.source);
      if (target === undefined) {
        addFinding(this.context, 'YAML_SYNTAX', `unresolved alias *${node.source}`, offsetOf(node), path);
        return null;
      }
      if (this.active.has(target)) {
        addFinding(
          this.context,
          'YAML_SYNTAX',
          `the alias *${node.source} refers to its own ancestor`,
          offsetOf(node),
          path,
        );
        return null;
      }
      return this.convert(target, path, depth);
    }
    if (isScalar(node)) {
      const value = node.value;
      if (typeof value === 'number' && !Number.isFinite(value)) {
        addFinding(this.context, 'SCHEMA', 'numbers must be finite', offsetOf(node), path);
        return null;
      }
      if (
        value === null ||
        typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean'
      ) {
        return value;
      }
      addFinding(this.context, 'SCHEMA', 'unsupported scalar value', offsetOf(node), path);
      return null;
    }
    if (isSeq(node) || isMap(node)) {
      this.active.add(node);
      const value = this.convertCollection(node, path, depth);
      this.active.delete(node);
      return value;
    }
    addFinding(this.context, 'SCHEMA', 'unsupported YAML node', offsetOf(node), path);
    return null;
  }

  private convertCollection(node: unknown, path: string, depth: number): unknown {
    if (isSeq(node)) {
      const out: unknown[] = [];
      // Entries are placed by index (one array of offsets per sequence, no map entry each).
      const entryOffsets: number[] = [];
      this.offsets.entries.set(path, entryOffsets);
      node.items.forEach((item, index) => {
        entryOffsets.push(offsetOf(item));
        out.push(this.convert(item, childPath(path, index), depth + 1, true));
      });
      return out;
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = Object.create(null);
      // Keys compared as the strings they become: the parser's own check sees `"10042"`, `10042`,
      // `0x273A` and `10042.0` as different keys, but they all land on the property "10042".
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const key = this.keyOf(pair.key, path);
        if (key === undefined) continue;
        const itemPath = childPath(path, key);
        const first = seen.get(key);
        if (first !== undefined) {
          const line = this.context.lineCounter.linePos(first).line;
          addFinding(
            this.context,
            'DUPLICATE_KEY',
            `the key "${key}" appears twice in this mapping (first on line ${line}); keys written as numbers (10042, 0x273A, 1e3) are read as their decimal string, so both mean "${key}". Keep one.`,
            offsetOf(pair.key),
            itemPath,
          );
          continue;
        }
        seen.set(key, offsetOf(pair.key));
        this.offsets.byPath.set(`${itemPath}#key`, offsetOf(pair.key));
        if (FORBIDDEN_KEYS.has(key)) {
          addFinding(this.context, 'UNKNOWN_KEY', `unknown key "${key}"`, offsetOf(pair.key), itemPath);
          continue;
        }
        Object.defineProperty(out, key, {
          value: this.convert(pair.value, itemPath, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    addFinding(this.context, 'SCHEMA', 'unsupported YAML node', offsetOf(node), path);
    return null;
  }

  private keyOf(key: unknown, path: string): string | undefined {
    if (isScalar(key)) {
      if (typeof key.value === 'string') return key.value;
      if (typeof key.value === 'number' && Number.isFinite(key.value)) return String(key.value);
    }
    addFinding(this.context, 'SCHEMA', 'mapping keys must be strings', offsetOf(key), path);
    return undefined;
  }
}

function offsetOf(node: unknown): number {
  const range = (node as Partial<Node> | null)?.range;
  return Array.isArray(range) ? range[0] : 0;
}
