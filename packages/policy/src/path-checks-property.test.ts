import { posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalisePath, pathRefusal } from './keywords.js';

/**
 * The path checks as they were written first (regular expressions, `split`), kept as the oracle of
 * the one-pass version: the same refusal, with the same reason, for every text.
 */
function referenceReason(value: string, relativeTo: string | undefined): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > 4096) return 'is longer than 4096 characters';
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return 'holds a control character or a backslash';
  }
  if (/%[0-9A-Fa-f]{2}/.test(value)) return 'holds a percent-escape (%XX), which some servers decode';
  if (value.normalize('NFC') !== value) {
    return 'is not in Unicode normalisation form NFC (a server may map it to the NFC name)';
  }
  if (/^~(?:\/|$|[^/]*(?:\/|$))/.test(value))
    return 'starts with ~ (a server may expand it to a home directory)';
  if (/^[A-Za-z]:/.test(value)) return 'starts with a drive letter (a Windows server reads it as absolute)';
  for (const segment of value.split('/')) {
    if (segment === '.' || segment === '..') continue;
    if (segment.endsWith('.') || segment.endsWith(' ')) {
      return 'has a segment ending in a dot or a space (Windows servers drop them)';
    }
  }
  if (!value.startsWith('/') && relativeTo === undefined)
    return 'is relative and the rule sets no relativeTo';
  return undefined;
}

function referenceNormalise(value: string, relativeTo: string | undefined): string | undefined {
  if (referenceReason(value, relativeTo) !== undefined) return undefined;
  return value.startsWith('/') ? posix.resolve(value) : posix.resolve(relativeTo!, value);
}

/** Characters every check cares about, and some it must not. */
const PIECES = [
  '/',
  '.',
  '..',
  ' ',
  '%',
  '%2e',
  '%7',
  '%zz',
  '%41',
  'a',
  'Z',
  'z',
  'C',
  '@',
  '[',
  '`',
  '{',
  ':',
  '~',
  '\\',
  '\u0000',
  '\u001f',
  '\u007f',
  '\u0080',
  'é',
  'e\u0301',
  '\u212b',
  'Å',
  '\ud83d\ude00',
  '\ud800',
  'w',
  'workspace',
  '.ssh',
  'x.',
  'y ',
  '. ',
  ' .',
  '...',
];

const pathText = fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((parts) => parts.join(''));
const relativeTo = fc.constantFrom(undefined, '/w', '/workspace/sub');

describe('path checks in one pass', () => {
  it('take a path of exactly the longest length and refuse one character more, saying why', () => {
    const longest = `/${'a'.repeat(4095)}`;
    expect(normalisePath(longest)).toBe(longest);
    expect(pathRefusal(`${longest}a`, { roots: ['/'] })).toBe('is longer than 4096 characters');
  });

  it('take every absolute path under the root /, and refuse what is not a string', () => {
    for (const path of ['/', '/etc/passwd', '/a/../b']) {
      expect(pathRefusal(path, { roots: ['/'] }), path).toBeUndefined();
    }
    expect(pathRefusal(42, { roots: ['/'] })).toBe('is not a string');
  });

  it('leave a path that is already in normal form as it is, and normalise any other as posix.resolve does', () => {
    const absolute = fc
      .array(fc.constantFrom('/', '.', '..', 'a', 'bc', '.x', 'x.', '...', '/./', '/../', '//'), {
        maxLength: 10,
      })
      .map((parts) => `/${parts.join('')}`);
    fc.assert(
      fc.property(absolute, (value) => {
        const expected = referenceNormalise(value, undefined);
        expect(normalisePath(value)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
    for (const value of [
      '/',
      '//',
      '/a',
      '/a/',
      '/a//b',
      '/./a',
      '/a/.',
      '/a/..',
      '/..',
      '/.a',
      '/a.b/c',
      '/..a',
      '/a..',
    ]) {
      expect(normalisePath(value), value).toBe(referenceNormalise(value, undefined));
    }
  });

  it('refuse exactly what the regular-expression checks refused, for the same reason', () => {
    fc.assert(
      fc.property(
        fc.oneof(pathText, fc.string({ maxLength: 16 }), fc.string({ unit: 'binary', maxLength: 8 })),
        relativeTo,
        (value, base) => {
          expect(normalisePath(value, base)).toBe(referenceNormalise(value, base));
          const options = {
            roots: ['/w', '/workspace'],
            exclude: ['/w/.ssh'],
            ...(base === undefined ? {} : { relativeTo: base }),
          };
          const expected =
            referenceReason(value, base) ??
            (() => {
              const path = referenceNormalise(value, base)!;
              const inside = options.roots.some((root) => path === root || path.startsWith(`${root}/`));
              if (!inside) return 'is not a path within the allowed roots';
              const folded = path.toLowerCase();
              return folded === '/w/.ssh' || folded.startsWith('/w/.ssh/')
                ? 'is inside the excluded path /w/.ssh'
                : undefined;
            })();
          expect(pathRefusal(value, options)).toBe(expected);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('treat the edges of each check alike', () => {
    const edges = [
      '~',
      '~/',
      '~user',
      '~user/x',
      '/~',
      'a~',
      'C:',
      'a:',
      'A:',
      'z:',
      'Z:/x',
      '0:',
      'c:/x',
      '@:',
      '[:',
      '`:',
      '{:',
      'C',
      '/C:',
      '%',
      '%4',
      '%41',
      // Every boundary of a hex digit, after a percent sign.
      '/a%09',
      '/a%90',
      '/a%/0',
      '/a%:0',
      '/a%0:',
      '/a%A0',
      '/a%0A',
      '/a%@0',
      '/a%F0',
      '/a%G0',
      '/a%a0',
      '/a%0a',
      '/a%`0',
      '/a%f0',
      '/a%g0',
      '/a%2',
      '/a%2F',
      '/a%g0',
      'x/%e',
      '.',
      '..',
      '/.',
      '/..',
      '/a/.',
      '/a/..',
      '/a./b',
      '/a /b',
      '/. /b',
      '/ ./b',
      '/.../b',
      '/a/',
      '//',
      '/a//b',
      'é',
      'e\u0301',
      '/w/e\u0301',
    ];
    for (const value of edges) {
      for (const base of [undefined, '/w']) {
        expect(normalisePath(value, base), `${JSON.stringify(value)} from ${String(base)}`).toBe(
          referenceNormalise(value, base),
        );
      }
    }
  });
});
