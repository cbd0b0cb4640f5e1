import { describe, expect, it } from 'vitest';
import { validatePolicy } from './index.js';

function argsPolicy(args: Record<string, unknown>): string {
  return JSON.stringify({
    version: 1,
    rules: [{ id: 'r', actions: ['a'], effect: 'allow', when: { args } }],
  });
}

describe('argument schema checks', () => {
  it('reports a bad keyword value against draft 2020-12 by default and when $schema names it (ARGS_SCHEMA)', () => {
    for (const $schema of [undefined, 'https://json-schema.org/draft/2020-12/schema']) {
      const result = validatePolicy({
        text: argsPolicy({
          ...($schema === undefined ? {} : { $schema }),
          type: 'object',
          minProperties: -1,
        }),
      });
      expect(result.ok).toBe(false);
      expect(result.findings.map((finding) => [finding.code, finding.path])).toEqual([
        ['ARGS_SCHEMA', '$.rules[0].when.args.minProperties'],
      ]);
    }
  });

  it('checks a schema that names another known meta-schema in $schema against that one (ARGS_SCHEMA)', () => {
    const result = validatePolicy({
      text: argsPolicy({ $schema: 'https://json-schema.org/draft/2020-12/meta/core', $anchor: 5 }),
    });
    expect(result.ok).toBe(false);
    expect(result.findings.map((finding) => [finding.code, finding.path])).toEqual([
      ['ARGS_SCHEMA', '$.rules[0].when.args.$anchor'],
    ]);
  });

  it('fails the load when $schema names a meta-schema it does not know (INTERNAL, no policy)', () => {
    const result = validatePolicy({
      text: argsPolicy({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' }),
    });
    expect(result.ok).toBe(false);
    expect(result.policy).toBeUndefined();
    expect(result.findings.map((finding) => finding.code)).toEqual(['INTERNAL']);
  });
});
