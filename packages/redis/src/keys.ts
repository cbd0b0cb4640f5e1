import { ConfigurationError } from '@ape/core';

/** The key prefix when none is given. */
export const DEFAULT_KEY_PREFIX = 'ape:';

/**
 * Checks a key prefix: 1 to 100 characters without glob characters (`*?[]\`), so that the prefix
 * can begin a `SCAN` pattern unescaped. @internal
 * @throws ConfigurationError (`CONFIG_INVALID`).
 */
export function checkPrefix(where: string, prefix: unknown): string {
  if (prefix === undefined) return DEFAULT_KEY_PREFIX;
  if (
    typeof prefix !== 'string' ||
    prefix.length === 0 ||
    prefix.length > 100 ||
    /[*?[\]\\\s]/.test(prefix)
  ) {
    throw new ConfigurationError(
      `${where}: "prefix" must be 1 to 100 characters without spaces or *?[]\\ (for example "ape:" or "prod:ape:").`,
      { field: 'prefix' },
    );
  }
  return prefix;
}

/**
 * A tenant as one key segment: percent-encoded, so it never contains `:` or `/` and two tenants
 * never share a segment. @internal
 */
export function tenantSegment(tenant: string): string {
  return encodeURIComponent(tenant);
}

/** `text` with the glob characters of a `SCAN MATCH` pattern escaped. @internal */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Checks a whole-number option in milliseconds. @internal @throws ConfigurationError. */
export function checkMilliseconds(
  where: string,
  field: string,
  value: number,
  min: number,
  max: number,
): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      `${where}: "${field}" must be a whole number of milliseconds between ${min} and ${max}.`,
      { field },
    );
  }
  return value;
}
