import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, normalisePath } from './index.js';

/** Writing is allowed inside /home/agent/workspace except its .ssh; relative paths resolve against it. */
function policyFor(relativeTo: boolean) {
  return compilePolicy({
    version: 1,
    rules: [
      {
        id: 'write-inside',
        actions: ['write_file'],
        effect: 'allow',
        when: {
          args: {
            type: 'object',
            required: ['path'],
            properties: {
              path: {
                type: 'string',
                'x-ape-path': {
                  roots: ['/home/agent/workspace'],
                  exclude: ['/home/agent/workspace/.ssh', '/home/agent/workspace/café'],
                  ...(relativeTo ? { relativeTo: '/home/agent/workspace' } : {}),
                },
              },
            },
          },
        },
      },
    ],
  });
}

const write = (path: string) => ({
  tenant: 't',
  action: 'write_file',
  args: { path },
  provenance: 'USER_TRUSTED' as const,
});

function reasonOf(relativeTo: boolean, path: string): string {
  const result = policyFor(relativeTo).simulate(write(path));
  expect(result.decision).toBe('DENY');
  expect(policyFor(relativeTo).evaluate(write(path)).decision).toBe('DENY');
  const row = result.trace.find((item) => item.rule === 'write-inside');
  return String(row?.because);
}

describe('x-ape-path refuses paths a server reads differently', () => {
  it.each([true, false])('denies an excluded directory spelt in NFD (relativeTo: %s)', (relativeTo) => {
    expect(reasonOf(relativeTo, '/home/agent/workspace/cafe\u0301/secret')).toContain(
      'not in Unicode normalisation form NFC',
    );
  });

  it.each(['~/.ssh/authorized_keys', '~', '~/', '~root/.ssh/authorized_keys', '~agent'])(
    'denies %s, which a server expands to a home directory (with and without relativeTo)',
    (path) => {
      expect(reasonOf(true, path)).toContain('starts with ~');
      expect(reasonOf(false, path)).toContain('starts with ~');
    },
  );

  it.each([
    ['/home/agent/workspace/.SSH/authorized_keys', 'inside the excluded path /home/agent/workspace/.ssh'],
    ['/home/agent/workspace/.s%73h/authorized_keys', 'percent-escape'],
    ['/home/agent/workspace/.ssh./authorized_keys', 'ending in a dot or a space'],
    ['/home/agent/workspace/.ssh /authorized_keys', 'ending in a dot or a space'],
    ['C:/Windows/System32', 'drive letter'],
  ])('denies %s with the reason "%s"', (path, reason) => {
    expect(reasonOf(true, path)).toContain(reason);
  });

  it('still allows ordinary paths, relative ones and names with a tilde inside', () => {
    const policy = policyFor(true);
    for (const path of [
      '/home/agent/workspace/notes.md',
      'src/index.ts',
      'a/~/b',
      '/home/agent/workspace/café.txt',
    ]) {
      expect(policy.evaluate(write(path)).decision).toBe('ALLOW');
    }
  });

  it('normalisePath refuses the same paths at the root of every path check', () => {
    for (const path of ['/w/cafe\u0301', '~/.ssh', '~user/x', '/w/%41', '/w/x.', 'C:/x']) {
      expect(normalisePath(path, '/w')).toBeUndefined();
    }
  });

  it('never allows a path that is not NFC or that starts with ~, whatever its text', () => {
    const policy = policyFor(true);
    const pieces = fc.constantFrom(
      'a',
      'e\u0301',
      'é',
      '~',
      '/',
      '.',
      '..',
      '.ssh',
      'café',
      'cafe\u0301',
      ' ',
      'x',
    );
    fc.assert(
      fc.property(fc.array(pieces, { minLength: 1, maxLength: 8 }), fc.boolean(), (parts, absolute) => {
        const path = `${absolute ? '/home/agent/workspace/' : ''}${parts.join('')}`;
        if (policy.evaluate(write(path)).decision !== 'ALLOW') return;
        expect(path.normalize('NFC')).toBe(path);
        expect(path.startsWith('~')).toBe(false);
        const resolved = normalisePath(path, '/home/agent/workspace')!.toLowerCase();
        expect(
          resolved.startsWith('/home/agent/workspace/.ssh/') || resolved === '/home/agent/workspace/.ssh',
        ).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
