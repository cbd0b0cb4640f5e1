import { posix } from 'node:path';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { DataValidateFunction } from 'ajv/dist/types/index.js';

/** Name of the path keyword: the argument is a path that, once normalised, lies within a root. */
export const PATH_KEYWORD = 'x-ape-path';
/** Name of the URL keyword: the argument is a URL with an allowed scheme and host. */
export const URL_KEYWORD = 'x-ape-url';

/** Options of the {@link PATH_KEYWORD} keyword. */
export interface PathKeywordOptions {
  /** Absolute directories the path must lie within (the root itself included). */
  readonly roots: readonly string[];
  /** When set, relative paths are resolved against this absolute directory; otherwise they fail. */
  readonly relativeTo?: string;
  /** Absolute paths excluded from the roots (the excluded path and everything below it). */
  readonly exclude?: readonly string[];
}

/** Options of the {@link URL_KEYWORD} keyword. */
export interface UrlKeywordOptions {
  /** Allowed schemes without the colon, such as `https`. */
  readonly schemes: readonly string[];
  /** Allowed hosts: `example.com` (exact) or `*.example.com` (any subdomain, not the domain itself). */
  readonly hosts: readonly string[];
  /** Allowed ports; the scheme's default port counts when the URL has none. */
  readonly ports?: readonly number[];
}

/** A C0 control character, DEL or a backslash: never accepted in a path or a URL. */
function isForbiddenCode(code: number): boolean {
  return code < 0x20 || code === 0x7f || code === 0x5c;
}

/** True when `value` holds a character {@link isForbiddenCode} refuses, or whitespace. */
function hasForbiddenUrlCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (
      isForbiddenCode(code) ||
      code === 0x20 ||
      code === 0xa0 ||
      code === 0xfeff ||
      (code >= 0x2000 && code <= 0x200b) ||
      code === 0x2028 ||
      code === 0x2029 ||
      code === 0x3000
    )
      return true;
  }
  return false;
}

/** Also the `maxLength` of the paths in the options of x-ape-path (keyword-option-schemas.json). */
const MAX_PATH_LENGTH = 4096;

/**
 * What {@link scanPath} finds, one bit each ({@link FORBIDDEN}, {@link EMPTY} and {@link TOO_LONG}
 * alone: the scan stops there, or does not start).
 */
const FORBIDDEN = 1;
const NOT_ASCII = 2;
const PERCENT_ESCAPE = 4;
/** A `/`-separated segment other than `.` and `..` that ends in a dot or a space. */
const DOT_OR_SPACE_END = 8;
/** After the first character: an empty segment (a repeated or trailing `/`) or a `.` or `..` segment. */
const NOT_NORMAL = 16;
const EMPTY = 32;
/** Longer than {@link MAX_PATH_LENGTH}: refused before a character is read. */
const TOO_LONG = 64;

function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/**
 * One pass over a path's characters and `/`-separated segments (read in place: no array of
 * segments), finding at once what the checks of {@link unsafePathReason} and {@link resolveChecked}
 * ask about; they then read the bits in their fixed order, so the first problem is still the one
 * reported. Returns {@link EMPTY} or {@link TOO_LONG} for a text refused by its length (an
 * over-long text is never read), {@link FORBIDDEN} at the first control character, DEL or
 * backslash. Otherwise the bits of what it saw:
 * - {@link NOT_ASCII}: a character that is not ASCII;
 * - {@link PERCENT_ESCAPE}: `%` and two hex digits (a server that decodes `%73` reads `s`, so
 *   `/w/.%73sh` would be `/w/.ssh` to it);
 * - {@link DOT_OR_SPACE_END} and {@link NOT_NORMAL} (see each).
 */
function scanPath(value: string): number {
  const length = value.length;
  if (length === 0) return EMPTY;
  if (length > MAX_PATH_LENGTH) return TOO_LONG;
  let found = 0;
  let start = 0;
  for (let index = 0; index <= length; index++) {
    // The end of the text closes the last segment, as a `/` would.
    const code = index < length ? value.charCodeAt(index) : 0x2f;
    if (code === 0x2f) {
      const size = index - start;
      if (size === 0) {
        if (index > 0) found |= NOT_NORMAL;
      } else if (isDotSegment(value, start, size)) {
        found |= NOT_NORMAL;
      } else {
        const last = value.charCodeAt(index - 1);
        if (last === 0x2e || last === 0x20) found |= DOT_OR_SPACE_END;
      }
      start = index + 1;
    } else if (isForbiddenCode(code)) {
      return FORBIDDEN;
    } else if (code >= 0x80) {
      found |= NOT_ASCII;
    } else if (
      code === 0x25 &&
      isHexDigit(value.charCodeAt(index + 1)) &&
      isHexDigit(value.charCodeAt(index + 2))
    ) {
      found |= PERCENT_ESCAPE;
    }
  }
  return found;
}

/** A first segment a Windows server reads as a drive: `C:`, `C:/…` (an ASCII letter, then `:`). */
function hasDriveStart(value: string): boolean {
  const first = value.charCodeAt(0) | 0x20;
  return first >= 0x61 && first <= 0x7a && value.charCodeAt(1) === 0x3a;
}

/** Whether the segment of `value` at `start` with `length` characters is `.` or `..`. */
function isDotSegment(value: string, start: number, length: number): boolean {
  return (
    value.charCodeAt(start) === 0x2e &&
    (length === 1 || (length === 2 && value.charCodeAt(start + 1) === 0x2e))
  );
}

/**
 * Why `value` cannot be checked as a path, or `undefined` when it can: the reasons a server could
 * read the same text as another file than the policy does. Shared by {@link normalisePath} and the
 * `x-ape-path` keyword (which reports it as the reason of the denial). `found` is what
 * {@link scanPath} found in `value`. The checks run in a fixed order, so a path with several
 * problems is always refused for the first; text that is all ASCII is in NFC already and is not
 * normalised to find out. No regular expression reads the path.
 */
function unsafePathReason(value: string, relativeTo: string | undefined, found: number): string | undefined {
  if (found & EMPTY) return 'is empty';
  if (found & TOO_LONG) return `is longer than ${MAX_PATH_LENGTH} characters`;
  if (found & FORBIDDEN) return 'holds a control character or a backslash';
  if (found & PERCENT_ESCAPE) return 'holds a percent-escape (%XX), which some servers decode';
  if (found & NOT_ASCII && value.normalize('NFC') !== value) {
    return 'is not in Unicode normalisation form NFC (a server may map it to the NFC name)';
  }
  // A first segment a server may expand: `~`, `~/…` (the home directory) or `~user/…`.
  if (value.charCodeAt(0) === 0x7e) return 'starts with ~ (a server may expand it to a home directory)';
  if (hasDriveStart(value)) return 'starts with a drive letter (a Windows server reads it as absolute)';
  if (found & DOT_OR_SPACE_END) {
    return 'has a segment ending in a dot or a space (Windows servers drop them)';
  }
  if (value.charCodeAt(0) !== 0x2f && relativeTo === undefined)
    return 'is relative and the rule sets no relativeTo';
  return undefined;
}

/**
 * The normal form of a path {@link unsafePathReason} accepted (POSIX `.`/`..`, separators): an
 * absolute path {@link scanPath} found normal (`/`, or segments that are neither empty nor `.` or
 * `..`) is its own normal form, what `posix.resolve` would return.
 */
function resolveChecked(value: string, relativeTo: string | undefined, found: number): string {
  if (value.charCodeAt(0) !== 0x2f) return posix.resolve(relativeTo!, value);
  return value.length === 1 || (found & NOT_NORMAL) === 0 ? value : posix.resolve(value);
}

/**
 * Normalises a path with POSIX semantics (`.`/`..` segments, repeated and trailing separators).
 * Returns `undefined` for anything that must never pass a path check, because a server could read
 * it as another file: an empty or over-long string, control characters (NUL included),
 * backslashes, percent-escapes (`%2e`, `%73`, ...), text not in Unicode NFC, a leading `~` segment
 * (`~`, `~/…`, `~user/…`), a leading drive letter, a segment ending in a dot or a space, or a
 * relative path when no `relativeTo` is given. Symbolic links are not resolved (no I/O on the
 * decision path).
 */
export function normalisePath(value: string, relativeTo?: string): string | undefined {
  const found = scanPath(value);
  if (unsafePathReason(value, relativeTo, found) !== undefined) return undefined;
  return resolveChecked(value, relativeTo, found);
}

/** Whether `path` is `root` or below it (`root` followed by `/`), without building `root + '/'`. */
function within(path: string, root: string): boolean {
  if (root === '/' || path === root) return true;
  return path.length > root.length && path.charCodeAt(root.length) === 0x2f && path.startsWith(root);
}

/** Whether `path` is {@link within} one of `roots` (a loop: no closure per call). */
function withinSome(path: string, roots: readonly string[]): boolean {
  for (const root of roots) if (within(path, root)) return true;
  return false;
}

/**
 * @internal Why `value` is not a path inside the keyword's roots, or `undefined` when it is.
 * Roots compare exactly; excluded paths compare case-insensitively, because a case-insensitive
 * file system (macOS, Windows) opens `/w/.SSH` for `/w/.ssh`.
 */
export function pathRefusal(value: unknown, options: PathKeywordOptions): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  const found = scanPath(value);
  const reason = unsafePathReason(value, options.relativeTo, found);
  if (reason !== undefined) return reason;
  const path = resolveChecked(value, options.relativeTo, found);
  if (!withinSome(path, options.roots)) return 'is not a path within the allowed roots';
  const exclude = options.exclude;
  if (exclude === undefined || exclude.length === 0) return undefined;
  const folded = path.toLowerCase();
  for (const item of exclude) {
    if (within(folded, item.toLowerCase())) return `is inside the excluded path ${item}`;
  }
  return undefined;
}

/** Whether `value` is a path inside the keyword's roots and outside its exclusions (see {@link normalisePath}). */
export function isPathWithin(value: unknown, options: PathKeywordOptions): boolean {
  return pathRefusal(value, options) === undefined;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  'http:': 80,
  'https:': 443,
  'ws:': 80,
  'wss:': 443,
  'ftp:': 21,
};

/**
 * Whether `value` is a URL (WHATWG parsing) whose scheme, host and port are allowed. Rejected:
 * credentials in the URL, whitespace, control characters and backslashes in the raw text (other
 * URL parsers read those differently), and hosts not in the list (case-insensitive, one trailing
 * dot ignored).
 */
export function isUrlAllowed(value: unknown, options: UrlKeywordOptions): boolean {
  if (typeof value !== 'string' || value.length === 0 || value.length > 8192) return false;
  if (hasForbiddenUrlCharacter(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '') return false;
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (!options.schemes.some((allowed) => allowed.toLowerCase() === scheme)) return false;
  let host = url.hostname.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '') return false;
  const hostAllowed = options.hosts.some((pattern) => {
    const lower = pattern.toLowerCase();
    return lower.startsWith('*.')
      ? host.endsWith(lower.slice(1)) && host.length > lower.length - 1
      : host === lower;
  });
  if (!hostAllowed) return false;
  if (options.ports !== undefined) {
    const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
    if (port === undefined || !options.ports.includes(port)) return false;
  }
  return true;
}

/**
 * @internal Registers the APE keywords on a policy's ajv instance. Their options are not checked by
 * ajv: argument-schemas.ts checks every value against keyword-option-schemas.json (validators compiled
 * at build time) before it compiles a schema, and compiles no schema with a problem.
 */
export function addApeKeywords(ajv: Ajv2020): void {
  ajv.addKeyword({
    keyword: PATH_KEYWORD,
    schemaType: 'object',
    compile(schema: PathKeywordOptions) {
      const options: PathKeywordOptions = {
        roots: schema.roots.map((root) => posix.resolve(root)),
        ...(schema.relativeTo === undefined ? {} : { relativeTo: posix.resolve(schema.relativeTo) }),
        exclude: (schema.exclude ?? []).map((path) => posix.resolve(path)),
      };
      const check: DataValidateFunction = (data: unknown): boolean => {
        const reason = pathRefusal(data, options);
        if (reason === undefined) return true;
        check.errors = [{ keyword: PATH_KEYWORD, message: reason, params: {} }];
        return false;
      };
      return check;
    },
    errors: true,
  });
  ajv.addKeyword({
    keyword: URL_KEYWORD,
    schemaType: 'object',
    compile(schema: UrlKeywordOptions) {
      const options: UrlKeywordOptions = { ...schema };
      return (data: unknown) => isUrlAllowed(data, options);
    },
    errors: false,
  });
}

/**
 * JSON Schema keywords that never change what a schema accepts (annotations and identifiers): ajv
 * accepts them, explain leaves them out, the unknown-keyword check does not report them, and
 * `@ape/verify`'s encoder skips them.
 */
export const ANNOTATION_KEYWORDS: ReadonlySet<string> = new Set([
  '$schema',
  '$id',
  '$comment',
  '$defs',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
]);
