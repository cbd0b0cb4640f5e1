import { describe, expect, it } from 'vitest';
import { generateConsoleSecret, hashConsoleSecret, parseSecretHash, verifySecret } from './secret.js';
import { checkUsers, parseConsoleUsers } from './users.js';

describe('console secrets', () => {
  it('generates 256-bit base64url secrets, different each time', () => {
    const first = generateConsoleSecret();
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateConsoleSecret()).not.toBe(first);
  });

  it('verifies the right secret against its salted hash and refuses another', async () => {
    const hash = hashConsoleSecret('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(hashConsoleSecret('correct horse battery staple')).not.toBe(hash);
    const parsed = parseSecretHash(hash, 'test');
    expect(await verifySecret('correct horse battery staple', parsed)).toBe(true);
    expect(await verifySecret('correct horse battery stapl', parsed)).toBe(false);
  });

  it('refuses a secret shorter than 16 characters with CONFIG_INVALID', () => {
    expect(() => hashConsoleSecret('short')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it.each([
    'plain',
    'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$short',
    `scrypt$1000$8$1$c2FsdHNhbHRzYWx0c2FsdA$${'a'.repeat(43)}`,
    `scrypt$4194304$8$1$c2FsdHNhbHRzYWx0c2FsdA$${'a'.repeat(43)}`,
    `scrypt$16384$8$99$c2FsdHNhbHRzYWx0c2FsdA$${'a'.repeat(43)}`,
  ])('refuses the malformed or too costly hash %s with CONFIG_INVALID', (hash) => {
    expect(() => parseSecretHash(hash, 'test')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('secret files', () => {
  const hash = hashConsoleSecret('a-secret-of-16-chars');

  it('reads one user per line, skipping blanks and comments', () => {
    const users = parseConsoleUsers(
      `# approvers\n\nalice acme,globex ${hash}\r\nroot * ${hash}\n`,
      'users.txt',
    );
    expect(users).toEqual([
      { name: 'alice', secretHash: hash, tenants: ['acme', 'globex'] },
      { name: 'root', secretHash: hash, tenants: '*' },
    ]);
    expect(checkUsers(users, 'test').get('alice')?.sees('globex')).toBe(true);
    expect(checkUsers(users, 'test').get('alice')?.sees('initech')).toBe(false);
    expect(checkUsers(users, 'test').get('root')?.sees('initech')).toBe(true);
  });

  it('names the file and line of a malformed entry', () => {
    expect(() => parseConsoleUsers(`alice acme ${hash}\nbob acme`, 'users.txt')).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        details: { field: 'users', line: 2 },
        message: expect.stringContaining('users.txt:2'),
      }),
    );
  });

  it('refuses a file without users', () => {
    expect(() => parseConsoleUsers('# nobody\n', 'users.txt')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('refuses a malformed tenant in a list', () => {
    expect(() => checkUsers([{ name: 'a', secretHash: hash, tenants: ['ok', 'not ok'] }], 'test')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'users[0].tenants' } }),
    );
  });
});
