import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compilePolicy, validatePolicy } from './index.js';
import { LinearRegExp, linearRegExp, unsafePatternReason } from './regex-safety.js';

/** A policy whose only rule allows `a` when `p` matches `pattern`. */
function policyWith(pattern: string) {
  return compilePolicy({
    version: 1,
    rules: [
      {
        id: 'r',
        actions: ['a'],
        effect: 'allow',
        when: { args: { type: 'object', properties: { p: { type: 'string', pattern } } } },
      },
    ],
  });
}

const request = (p: string) => ({
  tenant: 't',
  action: 'a',
  args: { p },
  provenance: 'USER_TRUSTED' as const,
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('unsafePatternReason', () => {
  it.each([
    '^T-[0-9]{1,6}$',
    '^/workspace/[^\\0]*$',
    '^(foo|bar)$',
    '^[a-z]+(\\.[a-z]+){0,3}$',
    '^(?:ab)?c+$',
    '[(+*)]+',
    // Shapes a backtracking engine cannot run safely; RE2 runs them in linear time.
    '^(a+)+$',
    '(a+){1,30}',
    '(\\w+\\s?){1,64}',
    '^\\d*\\d*\\d*\\d*\\d*\\d*x$',
    '^(?<year>\\d{4})-\\p{Lu}\\u{1F600}\\x41\\cJ[\\s\\d]$',
  ])('accepts %s', (pattern) => {
    expect(unsafePatternReason(pattern)).toBeUndefined();
  });

  it.each([
    ['(a)\\1', 'backreferences cannot run in linear time'],
    ['(?<x>a)\\k<x>', 'backreferences cannot run in linear time'],
    ['^(?=a)', 'lookahead and lookbehind'],
    ['(?<!a)b', 'lookahead and lookbehind'],
    ['a'.repeat(257), 'longer than 256'],
    ['(', 'not a valid ECMAScript regular expression'],
    ['[\\S]', '\\S inside a character class'],
    ['a{1001}', 'repetition counts are limited to 1000'],
    ['((a{100}){100}){100}', 'cannot compile it'],
    ['\\p{Letter}', 'use a general category abbreviation'],
    ['\\ud800', 'lone surrogate'],
  ])('refuses %s and says why', (pattern, reason) => {
    expect(unsafePatternReason(pattern)).toContain(reason);
  });

  it('refuses a flag other than u in the ajv factory', () => {
    expect(() => linearRegExp('a', 'ui')).toThrow('u flag only');
  });
});

describe('the linear-time engine behind argument patterns', () => {
  it.each([
    ['^(a+){1,30}$', `${'a'.repeat(10_000)}!`],
    ['^(\\w+\\s?){1,64}$', `${'ab '.repeat(3_333)}!`],
    ['^\\d*\\d*\\d*\\d*\\d*\\d*x$', '1'.repeat(10_000)],
  ])('evaluates %s on a 10,000-character argument with RE2, never with RegExp', (pattern, argument) => {
    const policy = policyWith(pattern);
    const linear = vi.spyOn(LinearRegExp.prototype, 'test');
    const nativeTest = vi.spyOn(RegExp.prototype, 'test');
    const nativeExec = vi.spyOn(RegExp.prototype, 'exec');
    const decision = policy.evaluate(request(argument));
    // Read the spies before any assertion: the matchers themselves may use RegExp.
    const linearInputs = linear.mock.calls.map(([input]) => input);
    const nativeInputs = [...nativeTest.mock.calls, ...nativeExec.mock.calls].map(([input]) => input);
    vi.restoreAllMocks();
    expect(decision.decision).toBe('DENY');
    expect(linearInputs).toContain(argument);
    expect(nativeInputs).not.toContain(argument);
  });

  it('still allows what the pattern matches and denies what it does not', () => {
    const policy = policyWith('^(a+){1,30}$');
    expect(policy.evaluate(request('aaaa')).decision).toBe('ALLOW');
    expect(policy.evaluate(request('aaab')).decision).toBe('DENY');
  });

  it('refuses a policy whose pattern needs backtracking, with UNSAFE_PATTERN and what to write instead', () => {
    const result = validatePolicy({
      text: 'rules:\n  - { id: r, actions: [a], effect: allow, when: { args: { type: object, patternProperties: { "^(?!x)": { type: string } } } } }\n',
      filename: 'p.yaml',
    });
    expect(result.ok).toBe(false);
    const finding = result.findings.find((item) => item.code === 'UNSAFE_PATTERN');
    expect(finding?.path).toBe('$.rules[0].when.args.patternProperties["^(?!x)"]');
    expect(finding?.message).toContain('split the condition');
  });

  it('runs patternProperties keys on RE2 too', () => {
    const policy = compilePolicy({
      version: 1,
      rules: [
        {
          id: 'r',
          actions: ['a'],
          effect: 'allow',
          when: {
            args: { type: 'object', patternProperties: { '^(a+)+$': { type: 'number' } } },
          },
        },
      ],
    });
    const linear = vi.spyOn(LinearRegExp.prototype, 'test');
    const key = `${'a'.repeat(5_000)}!`;
    const decision = policy.evaluate({ ...request('x'), args: { [key]: 'not a number' } }).decision;
    const linearInputs = linear.mock.calls.map(([input]) => input);
    vi.restoreAllMocks();
    expect(decision).toBe('ALLOW');
    expect(linearInputs).toEqual([key]);
    expect(policy.evaluate({ ...request('x'), args: { aaa: 'not a number' } }).decision).toBe('DENY');
  });
});

/** Small patterns in the ECMAScript `u` dialect, built from the pieces the translator rewrites. */
const atom = fc.constantFrom(
  'a',
  'b',
  '.',
  '\\s',
  '\\S',
  '\\d',
  '\\w',
  '\\W',
  '\\n',
  '\\u00a0',
  '\\u{2028}',
  '[ab]',
  '[^a]',
  '[\\s1]',
  '[a-c\\d]',
  '[]',
  '[^]',
  '[.]',
  '[\\^x]',
  '-',
  '\\b',
  '\\.',
  '\\p{Lu}',
  '\\P{L}',
);
const quantifier = fc.constantFrom('', '', '*', '+', '?', '{1,3}', '{2}', '*?');
const piece = fc.tuple(atom, quantifier).map(([text, quantifierText]) => text + quantifierText);
const sequence = fc.array(piece, { minLength: 1, maxLength: 4 }).map((pieces) => pieces.join(''));
const patternArbitrary = fc
  .tuple(
    fc.boolean(),
    sequence,
    fc.constantFrom('', '|', '('),
    sequence,
    fc.constantFrom('', '+', '*', '{1,2}'),
    fc.boolean(),
  )
  .map(([start, left, join, right, groupQuantifier, end]) => {
    const body = join === '(' ? `${left}(${right})${groupQuantifier}` : `${left}${join}${right}`;
    return `${start ? '^' : ''}${body}${end ? '$' : ''}`;
  });
const inputCharacter = fc.constantFrom(
  'a',
  'b',
  'c',
  'A',
  'É',
  '1',
  '_',
  ' ',
  '\n',
  '\r',
  '\t',
  '\u00a0',
  '\u2028',
  '\ufeff',
  '.',
  '^',
  '-',
  '😀',
);

function isEcmaScript(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

describe('the translation into RE2', () => {
  it('matches exactly what the ECMAScript u pattern matches on short inputs', () => {
    fc.assert(
      fc.property(
        patternArbitrary,
        fc.array(fc.array(inputCharacter, { maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        (pattern, inputs) => {
          fc.pre(isEcmaScript(pattern));
          expect(unsafePatternReason(pattern)).toBeUndefined();
          const linear = new LinearRegExp(pattern);
          const native = new RegExp(pattern, 'u');
          for (const characters of inputs) {
            const input = characters.join('');
            expect([pattern, input, linear.test(input)]).toEqual([pattern, input, native.test(input)]);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('evaluates random accepted patterns on random 10,000-character adversarial arguments with RE2 only', () => {
    const adversarial = fc
      .tuple(fc.array(inputCharacter, { minLength: 1, maxLength: 3 }), inputCharacter)
      .map(
        ([unit, tail]) =>
          unit
            .join('')
            .repeat(10_000)
            .slice(0, 10_000 - tail.length) + tail,
      );
    fc.assert(
      fc.property(patternArbitrary, adversarial, (pattern, argument) => {
        fc.pre(isEcmaScript(pattern));
        const policy = policyWith(pattern);
        const linear = vi.spyOn(LinearRegExp.prototype, 'test');
        const nativeTest = vi.spyOn(RegExp.prototype, 'test');
        const decision = policy.evaluate(request(argument));
        const linearCalls = linear.mock.calls.map(([input]) => input);
        const linearResult = linear.mock.results.at(-1)?.value;
        const nativeInputs = nativeTest.mock.calls.map(([input]) => input);
        vi.restoreAllMocks();
        expect(decision.decision).toBe(linearResult === true ? 'ALLOW' : 'DENY');
        expect(linearCalls).toEqual([argument]);
        expect(nativeInputs).not.toContain(argument);
      }),
      { numRuns: 60 },
    );
  });
});
