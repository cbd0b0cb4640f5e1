import { describe, expect, it } from 'vitest';
import { EscalationDeniedError, InternalError, PolicyDenyError } from '../errors.js';
import { denialText, refusalError, refusalOf } from './denial.js';

describe('denial text', () => {
  it('names the action, the policy reason and the rule ids', () => {
    const error = new PolicyDenyError('Step 2 ("send_email") is denied: nope', {
      reason: 'Untrusted data may not leave.',
      rules: ['untrusted-data-must-not-leave', 'x'],
    });
    expect(denialText(refusalOf('send_email', error))).toBe(
      'APE denied send_email: Untrusted data may not leave. (rules: untrusted-data-must-not-leave, x)',
    );
  });

  it("uses an escalation denial's message, first line only", () => {
    const error = new EscalationDeniedError('Step 0 was denied by bob.\nstack-ish detail', {
      reason: 'denied',
    });
    expect(denialText(refusalOf('delete_file', error))).toBe(
      'APE denied delete_file: Step 0 was denied by bob.',
    );
  });

  it('never shows the message or stack of an error that is not APE’s', () => {
    const error = new TypeError('connection string postgres://admin:hunter2@db');
    const text = denialText(refusalOf('read_file', error));
    expect(text).toBe('APE denied read_file: the call could not be checked (TypeError); failing closed.');
    expect(text).not.toContain('hunter2');
    expect(refusalOf('read_file', 'boom').code).toBe('INTERNAL');
  });
});

describe('refusalError', () => {
  it('rethrows an APE error as it is', () => {
    const error = new PolicyDenyError('denied', { reason: 'no' });
    expect(refusalError('send_email', error, 'APE denied send_email: no')).toBe(error);
  });

  it('wraps any other failure in INTERNAL with the denial text, the action and the cause', () => {
    const cause = new TypeError('secret');
    const error = refusalError('read_file', cause, 'APE denied read_file: failing closed.');
    expect(InternalError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'INTERNAL',
      message: 'APE denied read_file: failing closed.',
      details: { action: 'read_file' },
      cause,
    });
  });
});
