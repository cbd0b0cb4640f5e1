import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPolicyData } from './index.js';

const directory = mkdtempSync(join(tmpdir(), 'ape-policy-data-'));

function codesOf(result: ReturnType<typeof readPolicyData>): string[] {
  return result.ok ? [] : result.findings.map((finding) => finding.code);
}

describe('readPolicyData', () => {
  it('reads YAML into prototype-free plain JSON and locates each value by JSON path', () => {
    const file = join(directory, 'data.yaml');
    writeFileSync(file, 'always_deny:\n  - read\n  - write\nnever:\n  - { action: x }\n');
    const result = readPolicyData(file);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toEqual({ always_deny: ['read', 'write'], never: [{ action: 'x' }] });
    expect(Object.getPrototypeOf(result.value)).toBeNull();
    expect(result.file).toBe(file);
    expect(result.locate('$.always_deny[1]')).toEqual({ line: 3, column: 5 });
    expect(result.locate('$.never[0].action')?.line).toBe(5);
    expect(result.locate('$.missing')).toBeUndefined();
  });

  it('reads a .json file as JSON, and text given as { text, format }', () => {
    const file = join(directory, 'data.json');
    writeFileSync(file, '{"a": [1, 2]}');
    const fromFile = readPolicyData(file);
    expect(fromFile.ok && fromFile.value).toEqual({ a: [1, 2] });
    const fromText = readPolicyData({ text: '{"b": true}', format: 'json', filename: 'b.json' });
    expect(fromText.ok && fromText.value).toEqual({ b: true });
  });

  it('reports a missing file as FILE_UNREADABLE, without throwing', () => {
    expect(codesOf(readPolicyData(join(directory, 'missing.yaml')))).toEqual(['FILE_UNREADABLE']);
  });

  it.each([
    ['a duplicate key', 'a: 1\na: 2\n', 'DUPLICATE_KEY'],
    ['a prototype key', '__proto__: 1\n', 'UNKNOWN_KEY'],
    ['a custom tag', 'a: !!js/function x\n', 'TAG'],
    ['two documents', 'a: 1\n---\nb: 2\n', 'MULTI_DOCUMENT'],
    ['a syntax error', 'a: [1, 2\n', 'YAML_SYNTAX'],
  ])('refuses %s with the policy loader code', (_name, text, code) => {
    expect(codesOf(readPolicyData({ text }))).toContain(code);
  });

  it('applies the load limits it is given: no aliases at all with maxAliases 0', () => {
    const text = 'a: &x [1]\nb: *x\n';
    expect(readPolicyData({ text }).ok).toBe(true);
    expect(codesOf(readPolicyData({ text }, { limits: { maxAliases: 0 } }))).toEqual(['LIMIT_ALIASES']);
    expect(codesOf(readPolicyData({ text: 'a: 1\n' }, { limits: { maxBytes: 2 } }))).toEqual(['LIMIT_SIZE']);
  });
});
