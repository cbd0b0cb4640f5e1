import { describe, expect, it } from 'vitest';
import { isPathWithin, isUrlAllowed, normalisePath } from './keywords.js';

describe('normalisePath', () => {
  it.each([
    ['/workspace/a/../b', '/workspace/b'],
    ['/workspace//a///b/', '/workspace/a/b'],
    ['/workspace/./a/.', '/workspace/a'],
    ['/../../etc', '/etc'],
    ['/', '/'],
  ])('normalises %s to %s', (input, expected) => {
    expect(normalisePath(input)).toBe(expected);
  });

  it.each([
    'a/b',
    '',
    'x\u0000y',
    '/a\\b',
    '/a/%2e%2e/b',
    '/a/%2F',
    '/a/%5c',
    '/a/%00',
    '/a\nb',
    `/${'a'.repeat(5000)}`,
  ])('refuses %j', (input) => {
    expect(normalisePath(input)).toBeUndefined();
  });

  it('resolves relative paths only against relativeTo', () => {
    expect(normalisePath('a/../b', '/workspace')).toBe('/workspace/b');
    expect(normalisePath('../../etc', '/workspace')).toBe('/etc');
  });
});

describe('isPathWithin', () => {
  const options = { roots: ['/workspace', '/tmp/ape'], exclude: ['/workspace/.git'] };
  it.each([
    ['/workspace', true],
    ['/workspace/a', true],
    ['/tmp/ape/x', true],
    ['/workspace/.git', false],
    ['/workspace/.git/config', false],
    ['/workspace/.github/x', true],
    ['/workspace/../etc', false],
    ['/workspacex', false],
    ['/tmp', false],
  ])('%s within roots: %s', (path, expected) => {
    expect(isPathWithin(path, options)).toBe(expected);
  });

  it('refuses values that are not strings', () => {
    expect(isPathWithin(5, options)).toBe(false);
    expect(isPathWithin(['/workspace'], options)).toBe(false);
  });
});

describe('isUrlAllowed', () => {
  const options = { schemes: ['https'], hosts: ['example.com', '*.example.org'] };
  it.each([
    ['https://example.com', true],
    ['https://Example.COM/a?b#c', true],
    ['https://deep.sub.example.org', true],
    ['https://example.org', false],
    ['https://badexample.org', false],
    ['http://example.com', false],
    ['https://u@example.com', false],
    ['https://:p@example.com', false],
    ['https://example.com:8443', true],
    [' https://example.com', false],
    ['https://example.com\t', false],
    ['https:\\\\example.com', false],
    ['//example.com', false],
    ['https://example.com%2f@evil.net', false],
  ])('%j allowed: %s', (url, expected) => {
    expect(isUrlAllowed(url, options)).toBe(expected);
  });

  it('checks ports, counting the scheme default', () => {
    const withPorts = { ...options, ports: [443] };
    expect(isUrlAllowed('https://example.com', withPorts)).toBe(true);
    expect(isUrlAllowed('https://example.com:443', withPorts)).toBe(true);
    expect(isUrlAllowed('https://example.com:8443', withPorts)).toBe(false);
  });
});
