import { describe, expect, it } from 'vitest';
import { validatePolicy } from './load.js';

function argsErrors(args: string): string[] {
  const text = [
    'version: 1',
    'rules:',
    '  - id: r',
    '    actions: [fetch]',
    '    effect: allow',
    '    when:',
    `      args: ${args}`,
    '',
  ].join('\n');
  return validatePolicy({ text, filename: 'p.yaml' })
    .findings.filter((finding) => finding.severity === 'error')
    .map((finding) => `${finding.code} ${finding.path}: ${finding.message}`);
}

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

describe('argument schemas at their edges', () => {
  it('accepts a schema that names draft 2020-12 as its $schema, and checks it against that meta-schema', () => {
    expect(
      argsErrors(`{ $schema: "${DRAFT}", type: object, properties: { url: { type: string } } }`),
    ).toEqual([]);
    const errors = argsErrors(
      `{ $schema: "${DRAFT}", type: object, properties: { url: { type: string, minLength: -1 } } }`,
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^ARGS_SCHEMA /);
  });

  it('names an unknown option of x-ape-url with the closest known one', () => {
    const errors = argsErrors(
      '{ type: object, properties: { url: { type: string, x-ape-url: { schemes: [https], hostz: [a.example] } } } }',
    );
    expect(errors).toContainEqual(
      'ARGS_SCHEMA $.rules[0].when.args.properties.url["x-ape-url"].hostz: unknown option "hostz" of x-ape-url; did you mean "hosts"?',
    );
  });

  it('says which type a keyword applies to when the schema names no type', () => {
    const errors = argsErrors('{ type: object, properties: { n: { minimum: 3 } } }');
    expect(errors.join('\n')).toMatch(/"minimum" only applies to numbers: add "type: number"/);
  });
});

describe('the linear-time pattern translation of escapes', () => {
  it.each([
    ['\\D', '1', 'a'],
    ['\\W', '_', '-'],
    ['\\v', 'x', '\u000b'],
    ['\\f', 'x', '\f'],
    ['\\r', 'x', '\r'],
    ['[\\b]', 'b', '\b'],
  ])('translates %s exactly as JavaScript matches it', async (pattern, rejected, accepted) => {
    const { linearRegExp } = await import('./regex-safety.js');
    const engine = linearRegExp(pattern, 'u');
    const native = new RegExp(pattern, 'u');
    expect(engine.test(accepted)).toBe(native.test(accepted));
    expect(engine.test(rejected)).toBe(native.test(rejected));
    expect(engine.test(accepted)).toBe(true);
  });
});
