import { describe, expect, it } from 'vitest';
import { openSession, runSmtScript } from './solver.js';

async function codeOf(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return undefined;
}

describe('runSmtScript', () => {
  it('answers check-sat per scope: push/pop (with counts) drop the assertions made inside', async () => {
    const output = await runSmtScript(
      [
        '(set-logic ALL)',
        '(set-option :produce-models true)',
        '(set-info :status unknown)',
        '(declare-const x Int)',
        '(assert (> x 0))',
        '(push 2)',
        '(assert (< x 0))',
        '(check-sat)',
        '(pop 2)',
        '(check-sat)',
        '(push)',
        '(assert (= x 0))',
        '(check-sat)',
        '(pop)',
        '(pop 5)',
        '(check-sat)',
        '(exit)',
      ].join('\n'),
    );
    expect(output).toBe('unsat\nsat\nunsat\nsat\n');
  });

  it('prints echo text and the model of the last sat check, or an error when there is none', async () => {
    const output = await runSmtScript(
      [
        '(declare-const s String)',
        '(echo "first")',
        '(get-model)',
        '(assert (= s "a)b"))',
        '(check-sat)',
        '(get-model)',
        '(echo nope)',
      ].join('\n'),
    );
    const lines = output.split('\n');
    expect(lines[0]).toBe('first');
    expect(lines[1]).toBe('(error "no model")');
    expect(lines[2]).toBe('sat');
    expect(output).toContain('"a)b"');
    expect(lines[lines.length - 2]).toBe('');
  });

  it('keeps comments, strings and |quoted symbols| with parentheses inside one command', async () => {
    const output = await runSmtScript(
      [
        '; a comment with ( an open parenthesis',
        '(declare-const |odd ) name| String)',
        '(assert (= |odd ) name| "x"")(y")) ; trailing ) comment',
        '(check-sat)',
      ].join('\n'),
    );
    expect(output).toBe('sat\n');
  });

  it('refuses a script Z3 rejects with INTERNAL', async () => {
    expect(await codeOf(() => runSmtScript('(assert (= undeclared 1))\n(check-sat)'))).toBe('INTERNAL');
  });
});

describe('openSession', () => {
  it('reads back the value of each term by the sort its name gives', async () => {
    const session = await openSession(
      [
        '(declare-datatypes () ((Provenance SYSTEM_TRUSTED USER_TRUSTED EXTERNAL_UNTRUSTED)))',
        '(declare-datatypes () ((Kind KString KNumber)))',
        '(declare-const provenance Provenance)',
        '(declare-const action String)',
        '(declare-const arg0_kind Kind)',
        '(declare-const arg0_number Real)',
        '(declare-const a_used0 Int)',
        '(declare-const arg0_present Bool)',
        '',
      ].join('\n'),
    );
    const terms = ['provenance', 'action', 'arg0_kind', 'arg0_number', 'a_used0', 'arg0_present'];
    const result = await session.check(
      '(and (= provenance USER_TRUSTED) (= action "go") (= arg0_kind KNumber) (= arg0_number (/ 1.0 2.0)) (= a_used0 3) arg0_present)',
      terms,
    );
    expect(result.answer).toBe('sat');
    expect(result.values.get('provenance')).toBe('USER_TRUSTED');
    expect(result.values.get('action')).toEqual({ string: 'go' });
    expect(result.values.get('arg0_kind')).toBe('KNumber');
    expect(result.values.get('a_used0')).toBe('3');
    expect(result.values.get('arg0_present')).toBe('true');
    const unsat = await session.check('(and arg0_present (not arg0_present))', terms);
    expect(unsat.answer).toBe('unsat');
    expect(unsat.values.size).toBe(0);
    session.close();
  });

  it('refuses an assertion Z3 rejects with INTERNAL', async () => {
    const session = await openSession('');
    expect(await codeOf(() => session.check('(= nothing_declared 1)', []))).toBe('INTERNAL');
    // The session still answers after a rejected query.
    expect((await session.check('true', [])).answer).toBe('sat');
  });
});
