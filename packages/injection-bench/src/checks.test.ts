import { describe, expect, it } from 'vitest';
import { type Check, checkCheck, evaluateCheck, matches } from './checks.js';

describe('matches', () => {
  it.each([
    ['deep equality', { a: [1, 'x'] }, { a: [1, 'x'] }, true],
    ['deep inequality', { a: [1, 'x'] }, { a: [1] }, false],
    ['a missing value never equals', undefined, null, false],
    ['$contains on a string', 'pay 100 EUR', { $contains: '100' }, true],
    [
      '$contains on a list of strings (item includes it)',
      ['a@x.example', 'b@y.example'],
      { $contains: 'y.example' },
      true,
    ],
    [
      '$contains on a list of objects (deep equal)',
      [{ e: 'a', p: 'r' }],
      { $contains: { e: 'a', p: 'r' } },
      true,
    ],
    [
      '$contains on a list of objects (text inside)',
      [{ sender: 'Emma', body: 'see www.x' }],
      { $contains: 'www.x' },
      true,
    ],
    ['$contains on a number', 5, { $contains: '5' }, false],
    ['$gte', 5, { $gte: 5 }, true],
    ['$lte', 6, { $lte: 5 }, false],
    ['$in', 'b', { $in: ['a', 'b'] }, true],
    ['$absent on a missing value', undefined, { $absent: true }, true],
    ['$absent on a present value', 0, { $absent: true }, false],
    ['$not', 'a', { $not: 'b' }, true],
    ['$all', 'abc', { $all: [{ $contains: 'a' }, { $contains: 'c' }] }, true],
    ['$any', 'abc', { $any: [{ $contains: 'z' }, { $contains: 'c' }] }, true],
  ])('%s', (_name, value, matcher, expected) => {
    expect(matches(value, matcher)).toBe(expected);
  });
});

describe('evaluateCheck', () => {
  const subject = {
    state: {
      files: [
        { id: '1', name: 'a', shared: [{ email: 'x@y' }] },
        { id: '2', name: 'b', shared: [] },
      ],
    },
    answer: 42,
  };

  it('evaluates path, some, none and the combinators', () => {
    const checks: [Check, boolean][] = [
      [{ path: 'answer', matches: 42 }, true],
      [{ path: 'state.files[1].name', matches: 'b' }, true],
      [{ some: 'state.files', where: { id: '1', 'shared[0].email': 'x@y' } }, true],
      [{ some: 'state.files', where: { id: '2', 'shared[0].email': 'x@y' } }, false],
      [{ none: 'state.files', where: { id: '3' } }, true],
      [{ none: 'state.missing', where: { id: '3' } }, true],
      [
        {
          allOf: [
            { path: 'answer', matches: 42 },
            { none: 'state.files', where: { id: '1' } },
          ],
        },
        false,
      ],
      [
        {
          anyOf: [
            { path: 'answer', matches: 1 },
            { path: 'answer', matches: 42 },
          ],
        },
        true,
      ],
      [{ not: { path: 'answer', matches: 42 } }, false],
    ];
    for (const [check, expected] of checks)
      expect(evaluateCheck(check, subject), JSON.stringify(check)).toBe(expected);
  });
});

describe('checkCheck', () => {
  it('accepts paths from state and answer', () => {
    expect(
      checkCheck(
        {
          allOf: [
            { path: 'answer', matches: 1 },
            { some: 'state.a', where: { 'b[0].c': { $gte: 1 } } },
          ],
        },
        '$.utility',
      ),
    ).toEqual([]);
  });

  it('names bad roots, bad paths, bad fields and malformed operators', () => {
    expect(
      checkCheck(
        {
          allOf: [
            { path: 'out[0]', matches: 1 },
            { some: 'state.__proto__', where: { a: 1 } },
            { none: 'state.a', where: { 'b..c': 1 } },
            { path: 'answer', matches: { $contains: 'a', $gte: 1 } },
            { path: 'answer', matches: { $all: 'a' } },
          ],
        },
        '$.utility',
      ),
    ).toEqual([
      '$.utility.allOf[0].path: a check path starts at state or answer',
      '$.utility.allOf[1].some: the name __proto__ is not allowed in a path',
      '$.utility.allOf[2].where.b..c: not a field path',
      '$.utility.allOf[3].matches: an operator object has exactly one of $contains, $gte, $lte, $in, $absent, $not, $all, $any',
      '$.utility.allOf[4].matches.$all: must be an array',
    ]);
  });
});
