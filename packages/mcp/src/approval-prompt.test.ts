import type { EscalationRequest } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approvalPrompt, MAX_APPROVAL_ARGUMENTS_LENGTH } from './approval-prompt.js';

function request(args: Record<string, unknown>): EscalationRequest {
  return {
    tenant: 't',
    session: 's',
    stepIndex: 0,
    action: 'write_file',
    args,
    provenance: 'USER_TRUSTED',
    decision: {
      decision: 'ESCALATE',
      rules: ['writes\u202e'],
      reason: 'Writes need a human.\nReally.',
      policy: 'p',
    },
  };
}

// Controls, bidi, separators, zero-width and format characters a prompt must never carry raw.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const HIDING = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

describe('approvalPrompt', () => {
  it('names the tool, the reason and rules (escaped), the provenance and each argument', () => {
    const prompt = approvalPrompt(request({ path: '/w/a', mode: 420, force: true, note: null }));
    expect(prompt).toEqual({
      ok: true,
      message: [
        'APE asks for your approval before the tool "write_file" runs.',
        'Why: Writes need a human.\\nReally. (rules: writes\\u202e)',
        'Provenance of the arguments: USER_TRUSTED',
        'Arguments (4, every one shown in full; text is quoted, invisible and control characters are escaped):',
        '  force: true',
        '  mode: 420',
        '  note: null',
        '  path: "/w/a"',
        'Approve only if these are exactly the arguments you expect.',
      ].join('\n'),
    });
  });

  it('says so when there are no arguments', () => {
    const prompt = approvalPrompt(request({}));
    expect(prompt.ok && prompt.message).toContain('Arguments: none.');
  });

  it('writes nested objects and arrays out in full, keys sorted, odd names quoted', () => {
    const prompt = approvalPrompt(request({ to: [{ 'e-mail': 'a@b', 'display name': 'A' }, 'c'] }));
    expect(prompt.ok && prompt.message).toContain('  to: [{"display name": "A", e-mail: "a@b"}, "c"]');
  });

  it('shows a value exactly at the bound and refuses one character more', () => {
    // "  x: " is not counted; `x`, `: ` and the two quotes are.
    const fits = 'a'.repeat(MAX_APPROVAL_ARGUMENTS_LENGTH - 5);
    expect(approvalPrompt(request({ x: fits })).ok).toBe(true);
    expect(approvalPrompt(request({ x: `${fits}a` }))).toMatchObject({ ok: false });
  });

  it.each([
    ['a BigInt', { n: 10n }, /not plain JSON \(bigint\)/],
    ['a function', { f: () => 1 }, /not plain JSON \(function\)/],
    ['a Date', { d: new Date(0) }, /not plain JSON \(object\)/],
    ['NaN', { n: Number.NaN }, /not plain JSON \(number\)/],
  ])('denies arguments holding %s', (_name, args, why) => {
    const prompt = approvalPrompt(request(args as Record<string, unknown>));
    expect(prompt.ok).toBe(false);
    expect(!prompt.ok && prompt.reason).toMatch(why);
  });

  it('denies arguments that cannot be read', () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap');
        },
      },
    );
    expect(approvalPrompt(request(hostile))).toEqual({
      ok: false,
      reason: 'the arguments cannot be read; the call was denied without asking',
    });
  });

  it('either shows every argument name and no hiding character, or refuses (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), {
          maxKeys: 40,
        }),
        (args) => {
          const prompt = approvalPrompt(request(args));
          if (!prompt.ok) return;
          expect(prompt.message).not.toMatch(HIDING);
          const lines = prompt.message.split('\n');
          expect(lines.filter((line) => line.startsWith('  '))).toHaveLength(Object.keys(args).length);
        },
      ),
    );
  });
});
