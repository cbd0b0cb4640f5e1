import type { EscalationResult } from '@ape/core';
import { ApeError } from '@ape/core';
import { runEscalationHandlerContract } from '@ape/core/contracts';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hasTerminalControl, makeRequest } from './__fixtures__/requests.js';
import { CallbackEscalation } from './callback-escalation.js';

runEscalationHandlerContract('CallbackEscalation', (answer) => ({
  handler: new CallbackEscalation({
    approver: 'alice',
    decide: (_request, signal) => {
      if (answer === 'approve') return true;
      if (answer === 'deny') return false;
      return new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(true)));
    },
  }),
}));

function ask(handler: CallbackEscalation, signal = new AbortController().signal): Promise<EscalationResult> {
  return handler.requestApproval(makeRequest(), signal);
}

function thrownCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return ApeError.isInstance(error) ? error.code : 'not an ApeError';
  }
  return undefined;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('CallbackEscalation answers', () => {
  it('records a true answer as an approval by the configured approver with USER_TRUSTED provenance', async () => {
    const result = await ask(new CallbackEscalation({ decide: () => true, approver: 'alice' }));
    expect(result).toEqual({ approved: true, approver: 'alice', provenance: 'USER_TRUSTED' });
  });

  it('records a false answer as a denial by the configured approver', async () => {
    const result = await ask(new CallbackEscalation({ decide: async () => false, approver: 'alice' }));
    expect(result).toEqual({ approved: false, approver: 'alice', provenance: 'USER_TRUSTED' });
  });

  it('names the approver "callback" when none is configured', async () => {
    const result = await ask(new CallbackEscalation({ decide: () => true }));
    expect(result.approver).toBe('callback');
  });

  it('passes the request and a live signal to the decision function', async () => {
    const decide = vi.fn((_request: unknown, signal: AbortSignal) => !signal.aborted);
    const request = makeRequest();
    await new CallbackEscalation({ decide }).requestApproval(request, new AbortController().signal);
    expect(decide).toHaveBeenCalledTimes(1);
    expect(decide.mock.calls[0]?.[0]).toBe(request);
  });

  it('keeps a full result with a known provenance, as a frozen copy the callback cannot change later', async () => {
    const answer = {
      approved: true,
      approver: 'bob',
      provenance: 'SYSTEM_TRUSTED' as const,
      reason: 'on call',
    };
    const result = await ask(new CallbackEscalation({ decide: () => answer }));
    expect(result).toEqual(answer);
    expect(result).not.toBe(answer);
    expect(Object.isFrozen(result)).toBe(true);
    answer.approved = false;
    expect(result.approved).toBe(true);
  });

  it('labels an approval with an unknown provenance EXTERNAL_UNTRUSTED, which the runtime refuses', async () => {
    const decide = () =>
      ({ approved: true, approver: 'bob', provenance: 'ADMIN' }) as unknown as EscalationResult;
    const result = await ask(new CallbackEscalation({ decide }));
    expect(result.approved).toBe(true);
    expect(result.provenance).toBe('EXTERNAL_UNTRUSTED');
  });

  it('labels an approval without a provenance EXTERNAL_UNTRUSTED', async () => {
    const decide = () => ({ approved: true, approver: 'bob' }) as unknown as EscalationResult;
    const result = await ask(new CallbackEscalation({ decide }));
    expect(result.provenance).toBe('EXTERNAL_UNTRUSTED');
  });

  it('keeps an EXTERNAL_UNTRUSTED approval untrusted: a handler never raises trust', async () => {
    const decide = (): EscalationResult => ({
      approved: true,
      approver: 'bot',
      provenance: 'EXTERNAL_UNTRUSTED',
    });
    const result = await ask(new CallbackEscalation({ decide }));
    expect(result.provenance).toBe('EXTERNAL_UNTRUSTED');
  });

  it('turns an approval without an approver identity into a denial', async () => {
    const decide = () => ({ approved: true, approver: '  ', provenance: 'USER_TRUSTED' }) as EscalationResult;
    const result = await ask(new CallbackEscalation({ decide, approver: 'alice' }));
    expect(result.approved).toBe(false);
    expect(result.approver).toBe('callback');
    expect(result.reason).toMatch(/without an approver identity/);
  });

  it('attributes a denial without an approver to the configured approver', async () => {
    const decide = () => ({ approved: false }) as unknown as EscalationResult;
    const result = await ask(new CallbackEscalation({ decide, approver: 'alice' }));
    expect(result).toMatchObject({ approved: false, approver: 'alice' });
  });

  it.each([
    ['a truthy string', { approved: 'yes', approver: 'bob', provenance: 'USER_TRUSTED' }],
    ['the number 1', { approved: 1, approver: 'bob', provenance: 'USER_TRUSTED' }],
  ])('approves only on approved === true, not on %s', async (_name, answer) => {
    const result = await ask(new CallbackEscalation({ decide: () => answer as unknown as EscalationResult }));
    expect(result.approved).toBe(false);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'yes'],
    ['a number', 1],
  ])('denies an answer that is %s', async (_name, answer) => {
    const result = await ask(new CallbackEscalation({ decide: () => answer as unknown as boolean }));
    expect(result).toMatchObject({ approved: false, approver: 'callback', provenance: 'SYSTEM_TRUSTED' });
    expect(result.reason).toMatch(/neither a boolean nor an EscalationResult/);
  });

  it('denies an answer whose fields throw when read', async () => {
    const answer = Object.defineProperty({}, 'approved', {
      get() {
        throw new Error('trap');
      },
    });
    const result = await ask(new CallbackEscalation({ decide: () => answer as EscalationResult }));
    expect(result.approved).toBe(false);
    expect(result.reason).toMatch(/could not be read: trap/);
  });

  it('approves only answers that are true or carry approved === true and an approver (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (answer) => {
        const result = await ask(
          new CallbackEscalation({ decide: () => answer as boolean, approver: 'alice' }),
        );
        expect(typeof result.approved).toBe('boolean');
        expect(result.approver.length).toBeGreaterThan(0);
        if (result.approved) {
          const fields = answer as { approved?: unknown; approver?: unknown; provenance?: unknown };
          expect(
            answer === true ||
              (fields.approved === true &&
                typeof fields.approver === 'string' &&
                fields.approver.trim() !== ''),
          ).toBe(true);
          if (answer !== true) {
            expect(result.provenance).toBe(
              ['SYSTEM_TRUSTED', 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED'].includes(fields.provenance as string)
                ? fields.provenance
                : 'EXTERNAL_UNTRUSTED',
            );
          }
        }
      }),
    );
  });
});

describe('CallbackEscalation failures', () => {
  it('denies when the callback throws, naming the message but not the stack', async () => {
    const decide = () => {
      throw new Error('approval service unreachable');
    };
    const result = await ask(new CallbackEscalation({ decide }));
    expect(result).toMatchObject({ approved: false, approver: 'callback', provenance: 'SYSTEM_TRUSTED' });
    expect(result.reason).toMatch(/approval service unreachable/);
    expect(result.reason).not.toMatch(/\n\s+at /);
    expect(result.reason).not.toMatch(/callback-escalation/);
  });

  it('denies when the callback rejects', async () => {
    const result = await ask(
      new CallbackEscalation({ decide: () => Promise.reject(new TypeError('bad gateway')) }),
    );
    expect(result.approved).toBe(false);
    expect(result.reason).toMatch(/bad gateway/);
  });

  it('denies when the callback throws something that is not an Error', async () => {
    const decide = () => {
      throw { toString: () => 'approved' };
    };
    const result = await ask(new CallbackEscalation({ decide }));
    expect(result.approved).toBe(false);
    expect(result.reason).toMatch(/non-Error value \(object\)/);
  });

  it('escapes control characters in an error message', async () => {
    const decide = () => {
      throw new Error('boom\n\u001b[32mAPPROVED');
    };
    const result = await ask(new CallbackEscalation({ decide }));
    expect(result.reason).toMatch(/boom\\n\\x1b\[32mAPPROVED/);
    expect(hasTerminalControl(result.reason ?? '')).toBe(false);
  });

  it('denies as "timeout" when no answer arrives in time, and aborts the signal it gave the callback', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let seen: AbortSignal | undefined;
    const decide = (_request: unknown, signal: AbortSignal) => {
      seen = signal;
      return new Promise<boolean>(() => {});
    };
    const pending = ask(new CallbackEscalation({ decide, timeoutMs: 1_000 }));
    await vi.advanceTimersByTimeAsync(1_000);
    const result = await pending;
    expect(result).toMatchObject({ approved: false, approver: 'timeout', provenance: 'SYSTEM_TRUSTED' });
    expect(seen?.aborted).toBe(true);
  });

  it('ignores an approval that arrives after the timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let approveLate: ((value: boolean) => void) | undefined;
    const decide = () =>
      new Promise<boolean>((resolve) => {
        approveLate = resolve;
      });
    const pending = ask(new CallbackEscalation({ decide, timeoutMs: 10 }));
    await vi.advanceTimersByTimeAsync(10);
    approveLate?.(true);
    expect((await pending).approved).toBe(false);
  });

  it('defaults to a 60 second timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const pending = ask(new CallbackEscalation({ decide: () => new Promise<boolean>(() => {}) }));
    await vi.advanceTimersByTimeAsync(59_999);
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await pending).approver).toBe('timeout');
  });

  it('denies as "aborted" when the runtime aborts while the callback is deciding', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const decide = (_request: unknown, signal: AbortSignal) => {
      seen = signal;
      return new Promise<boolean>(() => {});
    };
    const pending = ask(new CallbackEscalation({ decide }), controller.signal);
    controller.abort();
    const result = await pending;
    expect(result).toMatchObject({ approved: false, approver: 'aborted', provenance: 'SYSTEM_TRUSTED' });
    expect(seen?.aborted).toBe(true);
  });

  it('does not call the callback at all when the signal is already aborted', async () => {
    const decide = vi.fn(() => true);
    const result = await ask(new CallbackEscalation({ decide }), AbortSignal.abort());
    expect(result.approved).toBe(false);
    expect(decide).not.toHaveBeenCalled();
  });
});

describe('CallbackEscalation options', () => {
  it('refuses a missing decision function with ARGS_INVALID', () => {
    const options = { decide: 'yes' } as unknown as ConstructorParameters<typeof CallbackEscalation>[0];
    expect(thrownCode(() => new CallbackEscalation(options))).toBe('ARGS_INVALID');
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31])(
    'refuses timeoutMs %s with ARGS_INVALID',
    (timeoutMs) => {
      expect(thrownCode(() => new CallbackEscalation({ decide: () => true, timeoutMs }))).toBe(
        'ARGS_INVALID',
      );
    },
  );

  it('refuses an empty approver with ARGS_INVALID', () => {
    expect(thrownCode(() => new CallbackEscalation({ decide: () => true, approver: ' ' }))).toBe(
      'ARGS_INVALID',
    );
  });
});
