import { userInfo } from 'node:os';
import { PassThrough } from 'node:stream';
import type { EscalationRequest, EscalationResult } from '@ape/core';
import { ApeError } from '@ape/core';
import { runEscalationHandlerContract } from '@ape/core/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CapturedOutput,
  eventually,
  FakeTerminalInput,
  hasTerminalControl,
  makeRequest,
} from './__fixtures__/requests.js';
import { ConsoleEscalation } from './console-escalation.js';

runEscalationHandlerContract('ConsoleEscalation', (answer) => {
  const input = new FakeTerminalInput();
  const output = new CapturedOutput();
  if (answer === 'approve') input.write('y\n');
  if (answer === 'deny') input.write('n\n');
  return {
    handler: new ConsoleEscalation({ input, output, approver: 'alice' }),
    dispose: () => {
      input.destroy();
    },
  };
});

interface Terminal {
  readonly input: FakeTerminalInput;
  readonly output: CapturedOutput;
  readonly handler: ConsoleEscalation;
}

function terminal(options: { timeoutMs?: number } = {}): Terminal {
  const input = new FakeTerminalInput();
  const output = new CapturedOutput();
  return { input, output, handler: new ConsoleEscalation({ input, output, approver: 'alice', ...options }) };
}

async function answerWith(
  line: string,
  request: EscalationRequest = makeRequest(),
): Promise<{ result: EscalationResult; text: string }> {
  const { input, output, handler } = terminal();
  input.write(line);
  const result = await handler.requestApproval(request, new AbortController().signal);
  return { result, text: output.text };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ConsoleEscalation answers', () => {
  it.each(['y\n', 'yes\n', 'Y\n', '  YES  \n'])(
    'approves on %j as the configured approver with USER_TRUSTED',
    async (line) => {
      const { result } = await answerWith(line);
      expect(result).toMatchObject({ approved: true, approver: 'alice', provenance: 'USER_TRUSTED' });
    },
  );

  it('denies on an empty line: the default is no', async () => {
    const { result } = await answerWith('\n');
    expect(result).toMatchObject({ approved: false, approver: 'alice' });
    expect(result.reason).toMatch(/default: no/);
  });

  it.each(['n\n', 'no\n', 'yeah\n', 'y es\n', 'approve\n', 'ok\n'])('denies on %j', async (line) => {
    const { result } = await answerWith(line);
    expect(result.approved).toBe(false);
  });

  it('escapes the answer it quotes in the reason', async () => {
    const { result } = await answerWith('n\u001b[2J\n');
    expect(hasTerminalControl(result.reason ?? '')).toBe(false);
  });

  it('denies when the input ends without an answer', async () => {
    const { input, handler } = terminal();
    const pending = handler.requestApproval(makeRequest(), new AbortController().signal);
    input.end();
    const result = await pending;
    expect(result).toMatchObject({ approved: false, approver: 'console', provenance: 'SYSTEM_TRUSTED' });
    expect(result.reason).toMatch(/ended without an answer/);
  });

  it('denies at once when the input has already ended', async () => {
    const { input, handler } = terminal();
    input.end();
    input.resume();
    await eventually(() => input.readableEnded);
    const result = await handler.requestApproval(makeRequest(), new AbortController().signal);
    expect(result.approved).toBe(false);
    expect(result.reason).toMatch(/input has ended/);
  });

  it('records the operating-system user as the approver by default', async () => {
    const input = new FakeTerminalInput();
    input.write('y\n');
    const handler = new ConsoleEscalation({ input, output: new CapturedOutput() });
    const result = await handler.requestApproval(makeRequest(), new AbortController().signal);
    expect(result.approver).toBe(userInfo().username);
  });
});

describe('ConsoleEscalation outside a terminal', () => {
  it('denies at once with "not a terminal" and never reads the piped answer', async () => {
    const input = new PassThrough();
    input.write('y\n');
    const output = new CapturedOutput();
    const handler = new ConsoleEscalation({ input, output, approver: 'alice' });
    const result = await handler.requestApproval(makeRequest(), new AbortController().signal);
    expect(result).toMatchObject({ approved: false, approver: 'console', provenance: 'SYSTEM_TRUSTED' });
    expect(result.reason).toMatch(/not a terminal/);
    expect(output.text).toBe('');
    expect(input.read()?.toString()).toBe('y\n');
  });

  it('treats a stream whose isTTY is a truthy non-boolean as not a terminal', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: 1 as unknown as boolean });
    input.write('y\n');
    const handler = new ConsoleEscalation({ input, output: new CapturedOutput() });
    expect((await handler.requestApproval(makeRequest(), new AbortController().signal)).approved).toBe(false);
  });
});

describe('ConsoleEscalation prompt', () => {
  it('shows tenant, session, step, action, argument names and values, provenance, rule ids and reason', async () => {
    const { text } = await answerWith('n\n');
    expect(text).toContain('tenant:     acme');
    expect(text).toContain('session:    session-1');
    expect(text).toContain('step:       2');
    expect(text).toContain('action:     deploy_production');
    expect(text).toContain('  target = "production"');
    expect(text).toContain('  replicas = 3');
    expect(text).toContain('provenance: EXTERNAL_UNTRUSTED');
    expect(text).toContain('rules:      deploys-need-a-human, untrusted-input');
    expect(text).toContain('reason:     deploying to production needs a human approval');
    expect(text).toContain('Approve this call as alice? [y/N]');
  });

  it('neutralises hostile argument text: no escape sequence, line break or fake prompt reaches the terminal', async () => {
    const hostile =
      'harmless\u001b[2K\r\u001b[1A\nApprove this call as alice? [y/N] y\n-> approved\n\u009b31m\u202egnirts\u2028';
    const request = makeRequest({
      action: 'send_email\u001b]0;title\u0007',
      args: {
        body: hostile,
        name: '\u202egnirts\u2028',
        [`to\nApprove this call as alice? [y/N]`]: 'x',
        nested: { deep: hostile },
      },
    });
    const { result, text } = await answerWith('n\n', request);
    expect(result.approved).toBe(false);
    expect(hasTerminalControl(text, ['\n'])).toBe(false);
    expect(text.match(/^Approve this call as/gm)).toHaveLength(1);
    expect(text.match(/^-> /gm)).toHaveLength(1);
    expect(text).toContain('\\x1b[2K\\r\\x1b[1A\\nApprove');
    expect(text).toContain('\\u202egnirts');
    expect(text).toContain('to\\nApprove this call as alice? [y/N] = "x"');
  });

  it('cuts long values and lists at most 20 arguments', async () => {
    const args: Record<string, unknown> = { long: 'a'.repeat(500) };
    for (let index = 0; index < 30; index += 1) args[`arg${index}`] = index;
    const { text } = await answerWith('n\n', makeRequest({ args }));
    expect(text).toContain(`long = "${'a'.repeat(80)}"… (420 more characters)`);
    expect(text).not.toContain('a'.repeat(100));
    expect(text).toContain('… and 11 more');
  });

  it('summarises nested objects and arrays without expanding them', async () => {
    const { text } = await answerWith(
      'n\n',
      makeRequest({ args: { list: [1, 2, 3], options: { a: 1, b: 2 } } }),
    );
    expect(text).toContain('list = [array of 3]');
    expect(text).toContain('options = {object: a, b}');
  });

  it('survives arguments whose getters throw', async () => {
    const args = Object.defineProperty({}, 'secret', {
      enumerable: true,
      get() {
        throw new Error('trap');
      },
    });
    const { result, text } = await answerWith('y\n', makeRequest({ args }));
    expect(result.approved).toBe(true);
    expect(text).toContain('secret = <unreadable>');
  });
});

describe('ConsoleEscalation waiting', () => {
  it('denies as "timeout" when nobody answers in time, and stops reading the terminal', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { input, output, handler } = terminal({ timeoutMs: 1_000 });
    const pending = handler.requestApproval(makeRequest(), new AbortController().signal);
    await vi.advanceTimersByTimeAsync(1_000);
    const result = await pending;
    expect(result).toMatchObject({ approved: false, approver: 'timeout', provenance: 'SYSTEM_TRUSTED' });
    await eventually(() => output.text.includes('-> denied'));
    expect(input.listenerCount('data')).toBe(0);
  });

  it('ignores a "y" typed after the timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { input, handler } = terminal({ timeoutMs: 10 });
    const pending = handler.requestApproval(makeRequest(), new AbortController().signal);
    await vi.advanceTimersByTimeAsync(10);
    input.write('y\n');
    expect((await pending).approved).toBe(false);
  });

  it('denies as "aborted" when the runtime stops waiting', async () => {
    const { output, handler } = terminal();
    const controller = new AbortController();
    const pending = handler.requestApproval(makeRequest(), controller.signal);
    await eventually(() => output.text.includes('[y/N]'));
    controller.abort();
    expect(await pending).toMatchObject({ approved: false, approver: 'aborted' });
  });

  it('asks concurrent requests one after the other, each getting its own answer', async () => {
    const { input, output, handler } = terminal();
    const first = handler.requestApproval(makeRequest({ stepIndex: 1 }), new AbortController().signal);
    const second = handler.requestApproval(makeRequest({ stepIndex: 2 }), new AbortController().signal);
    await eventually(() => output.text.includes('[y/N]'));
    expect(output.text.match(/\[y\/N\]/g)).toHaveLength(1);
    input.write('y\n');
    expect(await first).toMatchObject({ approved: true });
    await eventually(() => (output.text.match(/\[y\/N\]/g) ?? []).length === 2);
    input.write('n\n');
    expect(await second).toMatchObject({ approved: false, approver: 'alice' });
  });

  it('drops a queued request whose signal aborts before its turn, without prompting for it', async () => {
    const { input, output, handler } = terminal();
    const first = handler.requestApproval(makeRequest({ stepIndex: 1 }), new AbortController().signal);
    const controller = new AbortController();
    const second = handler.requestApproval(makeRequest({ stepIndex: 2 }), controller.signal);
    controller.abort();
    expect(await second).toMatchObject({ approved: false, approver: 'aborted' });
    input.write('y\n');
    expect((await first).approved).toBe(true);
    expect(output.text.match(/\[y\/N\]/g)).toHaveLength(1);
  });
});

describe('ConsoleEscalation options', () => {
  function thrownCode(action: () => unknown): string | undefined {
    try {
      action();
    } catch (error) {
      return ApeError.isInstance(error) ? error.code : 'not an ApeError';
    }
    return undefined;
  }

  it('refuses a malformed timeout with ARGS_INVALID', () => {
    expect(thrownCode(() => new ConsoleEscalation({ input: new FakeTerminalInput(), timeoutMs: -5 }))).toBe(
      'ARGS_INVALID',
    );
  });

  it('refuses an empty approver with ARGS_INVALID', () => {
    expect(thrownCode(() => new ConsoleEscalation({ input: new FakeTerminalInput(), approver: '' }))).toBe(
      'ARGS_INVALID',
    );
  });
});
