import { describe, expect, it } from 'vitest';
import { validatePolicy } from './load.js';

/** The error findings of a policy text, as `path: message` lines. */
function errorsOf(text: string): string[] {
  const validation = validatePolicy({ text, filename: 'p.yaml' });
  return validation.findings
    .filter((finding) => finding.severity === 'error')
    .map((finding) => `${finding.path}: ${finding.message}`);
}

const ID_RULES =
  'letters, digits, "_", ".", ":" and "-", starting with a letter, digit or "_", at most 128 characters';

describe('the policy shape check words each kind of bad identifier by what it stands for', () => {
  it('a bad policy name', () => {
    expect(errorsOf('version: 1\nname: "bad name!"\n')).toContainEqual(
      `$.name: text "bad name!" is not a valid name: use ${ID_RULES}`,
    );
  });

  it('a bad action id in the actions list', () => {
    expect(errorsOf('version: 1\nactions: ["no spaces"]\n')).toContainEqual(
      `$.actions[0]: text "no spaces" is not a valid action id: use ${ID_RULES}`,
    );
  });

  it('a bad rule id', () => {
    expect(
      errorsOf('version: 1\nrules:\n  - id: "-starts-with-dash"\n    actions: [read]\n    effect: allow\n'),
    ).toContainEqual(`$.rules[0].id: text "-starts-with-dash" is not a valid rule id: use ${ID_RULES}`);
  });

  it('a bad tenant id as a key of tenants', () => {
    expect(errorsOf('version: 1\ntenants:\n  "bad tenant":\n    allowed_actions: [read]\n')).toContainEqual(
      `$.tenants["bad tenant"]: "bad tenant" is not a valid tenant id: use ${ID_RULES}`,
    );
  });

  it('a bad action glob in an allow list', () => {
    expect(errorsOf('version: 1\nallowed_actions: ["a***"]\n')).toEqual([
      expect.stringMatching(
        /^\$\.allowed_actions\[0\]: text "a\*\*\*" is not a valid action id or glob: use /,
      ),
    ]);
  });
});
