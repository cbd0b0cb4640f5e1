import { posix } from 'node:path';
import type { Ajv2020 } from 'ajv/dist/2020.js';

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

/** True when `value` holds a C0 control character, DEL, a backslash, or (when asked) whitespace. */
function hasForbiddenCharacter(value: string, whitespace: boolean): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true;
    if (
      whitespace &&
      (code === 0x20 ||
        code === 0xa0 ||
        code === 0xfeff ||
        (code >= 0x2000 && code <= 0x200b) ||
        code === 0x2028 ||
        code === 0x2029 ||
        code === 0x3000)
    )
      return true;
  }
  return false;
}
const ENCODED_SEPARATOR = /%(?:2e|2f|5c|00)/i;
const MAX_PATH_LENGTH = 4096;

/**
 * Normalises a path with POSIX semantics (`.`/`..` segments, repeated and trailing separators).
 * Returns `undefined` for anything that must never pass a path check: an empty or over-long
 * string, control characters (NUL included), backslashes, percent-encoded dots, separators or NUL
 * (`%2e`, `%2f`, `%5c`, `%00`), or a relative path when no `relativeTo` is given. Symbolic links are
 * not resolved (no I/O on the decision path).
 */
export function normalisePath(value: string, relativeTo?: string): string | undefined {
  if (value.length === 0 || value.length > MAX_PATH_LENGTH) return undefined;
  if (hasForbiddenCharacter(value, false) || ENCODED_SEPARATOR.test(value)) return undefined;
  if (value.startsWith('/')) return posix.resolve(value);
  if (relativeTo === undefined) return undefined;
  return posix.resolve(relativeTo, value);
}

function within(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`);
}

/** Whether `value` is a path inside the keyword's roots (see {@link normalisePath}). */
export function isPathWithin(value: unknown, options: PathKeywordOptions): boolean {
  if (typeof value !== 'string') return false;
  const path = normalisePath(value, options.relativeTo);
  if (path === undefined) return false;
  if (!options.roots.some((root) => within(path, root))) return false;
  return !(options.exclude ?? []).some((excluded) => within(path, excluded));
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
  if (hasForbiddenCharacter(value, true)) return false;
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

const absolutePath = { type: 'string', pattern: '^/', maxLength: MAX_PATH_LENGTH };

/** @internal Registers the APE keywords on a policy's ajv instance. */
export function addApeKeywords(ajv: Ajv2020): void {
  ajv.addKeyword({
    keyword: PATH_KEYWORD,
    schemaType: 'object',
    metaSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['roots'],
      properties: {
        roots: { type: 'array', minItems: 1, maxItems: 256, items: absolutePath },
        relativeTo: absolutePath,
        exclude: { type: 'array', maxItems: 256, items: absolutePath },
      },
    },
    compile(schema: PathKeywordOptions) {
      const options: PathKeywordOptions = {
        roots: schema.roots.map((root) => posix.resolve(root)),
        ...(schema.relativeTo === undefined ? {} : { relativeTo: posix.resolve(schema.relativeTo) }),
        exclude: (schema.exclude ?? []).map((path) => posix.resolve(path)),
      };
      return (data: unknown) => isPathWithin(data, options);
    },
    errors: false,
  });
  ajv.addKeyword({
    keyword: URL_KEYWORD,
    schemaType: 'object',
    metaSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['schemes', 'hosts'],
      properties: {
        schemes: {
          type: 'array',
          minItems: 1,
          maxItems: 32,
          items: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9+.-]{0,31}$' },
        },
        hosts: {
          type: 'array',
          minItems: 1,
          maxItems: 1024,
          items: { type: 'string', pattern: '^(\\*\\.)?[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*$', maxLength: 253 },
        },
        ports: {
          type: 'array',
          minItems: 1,
          maxItems: 64,
          items: { type: 'integer', minimum: 1, maximum: 65535 },
        },
      },
    },
    compile(schema: UrlKeywordOptions) {
      const options: UrlKeywordOptions = { ...schema };
      return (data: unknown) => isUrlAllowed(data, options);
    },
    errors: false,
  });
}
