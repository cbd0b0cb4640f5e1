import { ConfigurationError } from '@ape/core';
import { type ParsedSecretHash, parseSecretHash } from './secret.js';

/** Every tenant: the scope of a user who may see all of them. */
export const ALL_TENANTS = '*';

/** A person who may log in to the console. */
export interface ConsoleUser {
  /** The login name; recorded as the approver of every answer this user gives. */
  readonly name: string;
  /** The hash of the user's secret, made by `hashConsoleSecret` (the secret itself is never stored). */
  readonly secretHash: string;
  /** The tenants this user sees and answers for, or `'*'` for every tenant. */
  readonly tenants: readonly string[] | typeof ALL_TENANTS;
}

/** @internal A checked user, with the parsed hash and a fast tenant test. */
export interface CheckedUser {
  readonly name: string;
  readonly hash: ParsedSecretHash;
  readonly tenants: readonly string[] | typeof ALL_TENANTS;
  sees(tenant: string): boolean;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * @internal Checks the users of a console.
 * @throws ConfigurationError (`CONFIG_INVALID`) for no users, a duplicate or malformed name, a
 * malformed tenant list or secret hash; `details.field` names the option.
 */
export function checkUsers(users: readonly ConsoleUser[], where: string): ReadonlyMap<string, CheckedUser> {
  if (!Array.isArray(users) || users.length === 0) {
    throw new ConfigurationError(`${where}: at least one user is needed (option "users").`, {
      field: 'users',
    });
  }
  const checked = new Map<string, CheckedUser>();
  users.forEach((user, index) => {
    const field = `users[${index}]`;
    if (typeof user?.name !== 'string' || !NAME_PATTERN.test(user.name)) {
      throw new ConfigurationError(
        `${where}: ${field}.name must be 1-128 letters, digits or . _ @ + - (starting with a letter or digit).`,
        { field: `${field}.name` },
      );
    }
    if (checked.has(user.name)) {
      throw new ConfigurationError(`${where}: user "${user.name}" is listed twice.`, {
        field: `${field}.name`,
      });
    }
    const tenants = user.tenants;
    const validTenants =
      tenants === ALL_TENANTS ||
      (Array.isArray(tenants) &&
        tenants.length > 0 &&
        tenants.every((tenant) => typeof tenant === 'string' && TENANT_PATTERN.test(tenant)));
    if (!validTenants) {
      throw new ConfigurationError(
        `${where}: ${field}.tenants must be "*" or a non-empty list of tenant ids.`,
        { field: `${field}.tenants` },
      );
    }
    const scope: ReadonlySet<string> | undefined =
      tenants === ALL_TENANTS ? undefined : new Set(tenants as readonly string[]);
    checked.set(
      user.name,
      Object.freeze({
        name: user.name,
        hash: parseSecretHash(user.secretHash, `${where}: ${field}.secretHash`, `${field}.secretHash`),
        tenants: tenants === ALL_TENANTS ? ALL_TENANTS : Object.freeze([...(tenants as readonly string[])]),
        sees: (tenant: string) => scope === undefined || scope.has(tenant),
      }),
    );
  });
  return checked;
}

/**
 * Reads the users of a secret file: one user per line, `<name> <tenants> <secret hash>`, where
 * `<tenants>` is `*` or a comma-separated list of tenant ids; blank lines and lines starting with
 * `#` are ignored. `ape console --hash-secret` prints the hash of a secret read from stdin.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming `source` and the line of a malformed entry.
 */
export function parseConsoleUsers(text: string, source: string): ConsoleUser[] {
  const users: ConsoleUser[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const words = trimmed.split(/\s+/);
    const [name, tenants, secretHash] = words;
    if (words.length !== 3 || name === undefined || tenants === undefined || secretHash === undefined) {
      throw new ConfigurationError(
        `${source}:${index + 1}: expected "<name> <tenants|*> <secret hash>", got ${words.length} field(s).`,
        { field: 'users', line: index + 1 },
      );
    }
    users.push({ name, secretHash, tenants: tenants === ALL_TENANTS ? ALL_TENANTS : tenants.split(',') });
  });
  if (users.length === 0) {
    throw new ConfigurationError(
      `${source}: no user in the file (one "<name> <tenants|*> <hash>" per line).`,
      {
        field: 'users',
      },
    );
  }
  return users;
}
