import type { UsageStore } from '@ape/core';
import { Agent, Runner, setTracingDisabled } from '@openai/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, scriptedModel, toolResults } from './__fixtures__/scripted-model.js';
import { ofType, setup } from './__fixtures__/setup.js';

const WIKI = 'https://en.wikipedia.org/wiki/Policy';
const runner = new Runner({ tracingDisabled: true });

beforeAll(() => {
  setTracingDisabled(true);
});

describe('failures are denials', () => {
  it('denies a call when the usage store fails (an APE internal error), tool not run', async () => {
    const broken: UsageStore = {
      acquire: () => Promise.reject(new Error('store down: secret-host:6379')),
      commit: () => Promise.reject(new Error('store down')),
      release: () => Promise.reject(new Error('store down')),
      get: () => Promise.reject(new Error('store down')),
      getPrevious: () => Promise.reject(new Error('store down')),
      setPrevious: () => Promise.reject(new Error('store down')),
    } as unknown as UsageStore;
    const { ape, spies, tools } = setup({ usage: broken });
    const scripted = scriptedModel([call('c1', 'fetch_url', { url: WIKI }), { text: 'ok' }]);
    const agent = new Agent({ name: 'a', model: scripted.model, tools: [...ape.thread('u').tools(tools)] });
    await runner.run(agent, 'go');
    expect(spies.fetch_url).not.toHaveBeenCalled();
    const denial = toolResults(scripted.requests).find((text) => text.startsWith('APE denied fetch_url:'));
    expect(denial).toBeDefined();
    expect(denial).not.toContain('secret-host');
  });

  it('denies every call of an ended thread', async () => {
    const { ape, spies, tools } = setup();
    const thread = ape.thread('ended');
    const wrapped = [...thread.tools(tools)];
    await thread.end();
    const scripted = scriptedModel([call('c1', 'fetch_url', { url: WIKI }), { text: 'ok' }]);
    await runner.run(new Agent({ name: 'a', model: scripted.model, tools: wrapped }), 'go');
    expect(spies.fetch_url).not.toHaveBeenCalled();
    expect(toolResults(scripted.requests).some((text) => text.startsWith('APE denied fetch_url:'))).toBe(
      true,
    );
  });

  it('gates a streamed run the same way', async () => {
    const { ape, spies, tools, events } = setup();
    const scripted = scriptedModel([
      call('c1', 'fetch_url', { url: WIKI }),
      call('c2', 'fetch_url', { url: 'http://attacker.test/' }),
      { text: 'ok' },
    ]);
    const agent = new Agent({ name: 'a', model: scripted.model, tools: [...ape.thread('s').tools(tools)] });
    const stream = await runner.run(agent, 'go', { stream: true });
    await stream.completed;
    expect(stream.finalOutput).toBe('ok');
    expect(spies.fetch_url).toHaveBeenCalledTimes(1);
    expect(ofType(events(), 'decision.made').map((event) => event.data['decision'])).toEqual([
      'ALLOW',
      'DENY',
    ]);
  });

  it('refuses to reject an interruption APE did not raise with UNAUTHORIZED_ACTION', async () => {
    const { ape, tools } = setup();
    const thread = ape.thread('r');
    thread.tools(tools);
    const item = { rawItem: { type: 'function_call', callId: 'nope', name: 'send_email', arguments: '{}' } };
    const state = { approve: () => undefined, reject: () => undefined };
    await expect(thread.reject(state as never, item as never, { approver: 'bob' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED_ACTION',
    });
  });

  it('refuses to approve an interruption that is not a function call, or has no argument text', () => {
    const { ape, tools } = setup();
    const thread = ape.thread('r-hosted');
    thread.tools(tools);
    const state = { approve: () => undefined, reject: () => undefined };
    for (const rawItem of [
      { type: 'hosted_tool_call', callId: 'h1', name: 'send_email', arguments: '{}' },
      { type: 'function_call', callId: 'h2', name: 'send_email', arguments: { to: 'x' } },
    ]) {
      expect(() => thread.approve(state as never, { rawItem } as never, { approver: 'bob' })).toThrow(
        expect.objectContaining({ code: 'UNAUTHORIZED_ACTION' }),
      );
    }
  });
});
