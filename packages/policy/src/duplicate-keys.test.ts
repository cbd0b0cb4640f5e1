import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPolicy, validatePolicy } from './index.js';

/** A policy whose tenant 10042 forbids `delete_file`, followed by a second key for the same tenant. */
function overlayThenEmpty(secondKey: string): string {
  return [
    'allowed_actions: [read_file, delete_file]',
    'tenants:',
    '  "10042":',
    '    forbidden_actions: [delete_file]',
    `  ${secondKey}: {}`,
    '',
  ].join('\n');
}

describe('duplicate keys written in other forms', () => {
  it.each([
    ['a decimal number', '10042'],
    ['a hexadecimal number', '0x273A'],
    ['an octal number', '0o23472'],
    ['a float with a zero fraction', '10042.0'],
    ['an exponent', '1.0042e4'],
  ])(
    'refuses a tenant overlay replaced by the same key written as %s (DUPLICATE_KEY, line of the second)',
    (_name, key) => {
      const result = validatePolicy({ text: overlayThenEmpty(key), filename: 'tenants.yaml' });
      expect(result.ok).toBe(false);
      expect(result.policy).toBeUndefined();
      const finding = result.findings.find((item) => item.code === 'DUPLICATE_KEY');
      expect(finding?.line).toBe(5);
      expect(finding?.path).toBe('$.tenants["10042"]');
      expect(finding?.message).toContain('first on line 3');
      expect(() => loadPolicy({ text: overlayThenEmpty(key), filename: 'tenants.yaml' })).toThrow(
        expect.objectContaining({ code: 'POLICY_INVALID' }),
      );
    },
  );

  it('refuses 1e3 after "1000" in an argument schema', () => {
    const text = [
      'rules:',
      '  - id: r',
      '    actions: [a]',
      '    effect: allow',
      '    when:',
      '      args:',
      '        type: object',
      '        properties:',
      '          "1000": { const: safe }',
      '          1e3: {}',
      '',
    ].join('\n');
    const finding = validatePolicy({ text }).findings.find((item) => item.code === 'DUPLICATE_KEY');
    expect(finding?.line).toBe(10);
  });

  it('still loads a policy whose numeric keys are all different', () => {
    const text = 'allowed_actions: [a]\ntenants:\n  10042: {}\n  0x2739: {}\n';
    expect(loadPolicy({ text }).tenants).toEqual(expect.arrayContaining(['10042', '10041']));
  });

  it('finds every pair of spellings of the same integer', () => {
    const spellings = (value: number) => [
      String(value),
      `"${value}"`,
      `'${value}'`,
      `0x${value.toString(16)}`,
      `0X${value.toString(16).toUpperCase()}`.replace('0X', '0x'),
      `0o${value.toString(8)}`,
      `${value}.0`,
      `+${value}`,
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.nat(7), fc.nat(7), (value, first, second) => {
        const forms = spellings(value);
        const text = `metadata:\n  ${forms[first]}: 1\n  ${forms[second]}: 2\n`;
        const codes = validatePolicy({ text }).findings.map((finding) => finding.code);
        expect(codes).toContain('DUPLICATE_KEY');
      }),
      { numRuns: 300 },
    );
  });
});
