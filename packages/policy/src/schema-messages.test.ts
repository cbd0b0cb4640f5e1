import type { ErrorObject } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { allowedKeys, describeValue, plainSchemaMessage } from './schema-messages.js';

/** An ajv error as a `verbose: true` validator reports it. */
function ajvError(keyword: string, params: Record<string, unknown>, data?: unknown, parentSchema?: unknown) {
  return {
    keyword,
    params,
    data,
    parentSchema,
    instancePath: '/rules/0',
    schemaPath: `#/${keyword}`,
    message: `ajv says ${keyword}`,
  } as ErrorObject;
}

describe('plainSchemaMessage', () => {
  it.each([
    ['type', { type: 'array' }, 'read_file', 'must be a list, not text "read_file"'],
    ['type', { type: 'string,null' }, 3, 'must be text or null, not the number 3'],
    ['type', { type: 'integer' }, true, 'must be a whole number, not true'],
    ['type', { type: 'object' }, [], 'must be a mapping (key: value pairs), not a list'],
    ['type', { type: 'boolean' }, null, 'must be true or false, not null'],
    ['type', { type: 'number' }, {}, 'must be a number, not a mapping'],
    ['type', { type: 'custom' }, 'x', 'must be custom, not text "x"'],
    [
      'enum',
      { allowedValues: ['allow', 'deny', 'escalate'] },
      'dney',
      'must be one of "allow", "deny", "escalate"; did you mean "deny"?',
    ],
    ['enum', { allowedValues: ['allow', 'deny'] }, 7, 'must be one of "allow", "deny"'],
    ['enum', {}, 'x', 'must be one of '],
    ['const', { allowedValue: 1 }, 2, 'must be 1'],
    ['required', { missingProperty: 'effect' }, {}, 'missing required field "effect"'],
    ['minItems', { limit: 1 }, [], 'must not be empty'],
    ['minItems', { limit: 2 }, [1], 'must have at least 2 items'],
    ['maxItems', { limit: 1 }, [1, 2], 'must have at most 1 item'],
    ['maxItems', { limit: 3 }, [1, 2, 3, 4], 'must have at most 3 items'],
    ['minLength', { limit: 1 }, '', 'must not be empty'],
    ['minLength', { limit: 3 }, 'ab', 'must be at least 3 characters'],
    ['maxLength', { limit: 128 }, 'a'.repeat(129), 'must be at most 128 characters long'],
    ['minProperties', { limit: 1 }, {}, 'must not be empty'],
    ['minProperties', { limit: 2 }, { a: 1 }, 'must have at least 2 keys'],
    ['maxProperties', { limit: 1 }, { a: 1, b: 2 }, 'must have at most 1 key'],
    ['minimum', { limit: 0 }, -1, 'must be at least 0'],
    ['maximum', { limit: 10 }, 11, 'must be at most 10'],
    ['uniqueItems', { i: 3, j: 1 }, [1, 2, 3, 2], 'lists the same item twice (items 1 and 3)'],
    ['multipleOf', { multipleOf: 2 }, 3, 'ajv says multipleOf'],
  ])('words %s %j as: %s', (keyword, params, data, expected) => {
    expect(plainSchemaMessage(ajvError(keyword, params, data))).toBe(expected);
  });

  it('falls back to the keyword when ajv gave no message', () => {
    const { message: _message, ...error } = ajvError('format', { format: 'uri' }, 'x');
    expect(plainSchemaMessage(error)).toBe('fails format');
  });
});

describe('describeValue', () => {
  it('names each kind of JSON value and shortens long text', () => {
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1])).toBe('a list');
    expect(describeValue('abc')).toBe('text "abc"');
    expect(describeValue('x'.repeat(41))).toBe(`text "${'x'.repeat(40)}…"`);
    expect(describeValue(2.5)).toBe('the number 2.5');
    expect(describeValue(false)).toBe('false');
    expect(describeValue({ a: 1 })).toBe('a mapping');
  });
});

describe('allowedKeys', () => {
  it('lists the properties of the parent schema, or none without one', () => {
    expect(
      allowedKeys(ajvError('additionalProperties', {}, {}, { properties: { id: {}, effect: {} } })),
    ).toEqual(['id', 'effect']);
    expect(allowedKeys(ajvError('additionalProperties', {}, {}, {}))).toEqual([]);
    expect(allowedKeys(ajvError('additionalProperties', {}, {}))).toEqual([]);
  });
});
