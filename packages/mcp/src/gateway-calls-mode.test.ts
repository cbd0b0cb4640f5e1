import {
  type AuditEvent,
  createInMemoryAuditSink,
  type InMemoryAuditSink,
  type PolicyEvaluator,
} from '@ape/core';
import { compilePolicy } from '@ape/policy';
import { type CallToolResult, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createNotesServer, type NotesServer } from './__fixtures__/notes-server.js';
import { createInMemoryMcpGateway, type InMemoryMcpGateway, type McpAfterDeniedEscalation } from './index.js';

// Issue 14, item 4: the gateway on calls mode. The attack: with a budget of two reads and a
// transition rule forbidding writes after reads, a model provokes one denied escalation (which
// used to start a fresh runtime with zero counts), then reads a third time and writes after a read.

const budgets = compilePolicy({
  version: 1,
  name: 'budgets',
  rules: [
    { id: 'reads', actions: ['read_note'], effect: 'allow' },
    { id: 'writes', actions: ['write_note'], effect: 'allow' },
    { id: 'deletes-need-a-human', actions: ['delete_note'], effect: 'escalate' },
  ],
  tool_transitions: { read_note: ['read_note', 'delete_note'] },
  limits: [{ id: 'two-reads', actions: ['read_note'], max_calls: 2 }],
});

let open: InMemoryMcpGateway | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

interface Started extends InMemoryMcpGateway {
  readonly audit: InMemoryAuditSink;
  readonly fixture: NotesServer;
}

async function start(
  options: { afterDeniedEscalation?: McpAfterDeniedEscalation; policy?: PolicyEvaluator } = {},
): Promise<Started> {
  const fixture = createNotesServer();
  const audit = createInMemoryAuditSink();
  open = await createInMemoryMcpGateway({
    policy: options.policy ?? budgets,
    server: fixture.server,
    audit,
    clientCapabilities: { elicitation: { form: {} } },
    ...(options.afterDeniedEscalation === undefined
      ? {}
      : { afterDeniedEscalation: options.afterDeniedEscalation }),
  });
  open.client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'decline' as const }));
  return { ...open, audit, fixture };
}

function decisionOf(result: unknown): { code?: string; rules: string[] } {
  return (result as CallToolResult)._meta?.['ape/decision'] as { code?: string; rules: string[] };
}

function deniedRules(events: readonly AuditEvent[]): string[][] {
  return events
    .filter((event) => event.type === 'decision.made' && event.data['decision'] === 'DENY')
    .map((event) => event.data['rules'] as string[]);
}

/** Two reads, one escalation the human declines, then a third read and a write after a read. */
async function attack(started: Started): Promise<{ third: unknown; write: unknown }> {
  const { client } = started;
  for (const path of ['/notes/a', '/notes/b']) {
    expect((await client.callTool({ name: 'read_note', arguments: { path } })).isError).toBeUndefined();
  }
  const escalated = await client.callTool({ name: 'delete_note', arguments: { path: '/notes/a' } });
  expect(decisionOf(escalated).code).toBe('ESCALATION_DENIED');
  const third = await client.callTool({ name: 'read_note', arguments: { path: '/notes/c' } });
  const write = await client.callTool({ name: 'write_note', arguments: { path: '/notes/d' } });
  return { third, write };
}

describe('the gateway on calls mode: nothing resets a budget', () => {
  it('continue: the third read is refused by the limit and the write after a read by the transition rule, in a new session of the same lineage', async () => {
    const started = await start({ afterDeniedEscalation: 'continue' });
    const first = started.gateway.sessionId;
    const { third, write } = await attack(started);
    expect(decisionOf(third)).toMatchObject({ code: 'POLICY_DENY', rules: ['two-reads'] });
    expect(decisionOf(write)).toMatchObject({ code: 'POLICY_DENY', rules: ['tool_transitions.read_note'] });
    expect(started.fixture.calls.mock.calls.map(([name]) => name)).toEqual(['read_note', 'read_note']);
    expect(started.gateway.sessionId).not.toBe(first);
    // The audit log shows why: the two DENY decisions of the new session, with their rule ids.
    const afterDenial = started.audit.events.filter((event) => event.session === started.gateway.sessionId);
    expect(deniedRules(afterDenial)).toEqual([['two-reads'], ['tool_transitions.read_note']]);
    expect(afterDenial[0]?.data).toMatchObject({ lineage: started.gateway.lineage, continuesSession: first });
  });

  it('continue: a second denied escalation forgets nothing either (each successor continues the first session)', async () => {
    const started = await start({ afterDeniedEscalation: 'continue' });
    const first = started.gateway.sessionId;
    const { client } = started;
    for (const path of ['/notes/a', '/notes/b']) {
      expect((await client.callTool({ name: 'read_note', arguments: { path } })).isError).toBeUndefined();
      const escalated = await client.callTool({ name: 'delete_note', arguments: { path } });
      expect(decisionOf(escalated).code).toBe('ESCALATION_DENIED');
    }
    const third = await client.callTool({ name: 'read_note', arguments: { path: '/notes/c' } });
    expect(decisionOf(third)).toMatchObject({ code: 'POLICY_DENY', rules: ['two-reads'] });
    expect(started.fixture.calls).toHaveBeenCalledTimes(2);
    const created = started.audit.events.filter((event) => event.type === 'session.created');
    expect(created).toHaveLength(3);
    expect(created.slice(1).map((event) => event.data['continuesSession'])).toEqual([first, first]);
  });

  it('refuse (the default): every call after the denied escalation is refused, and the log says why', async () => {
    const started = await start();
    const session = started.gateway.sessionId;
    const { third, write } = await attack(started);
    expect(decisionOf(third).code).toBe('SESSION_ENDED');
    expect(decisionOf(write).code).toBe('SESSION_ENDED');
    expect(started.fixture.calls.mock.calls.map(([name]) => name)).toEqual(['read_note', 'read_note']);
    expect(started.gateway.sessionId).toBe(session);
    const refusals = started.audit.events.filter((event) => event.data['source'] === 'mcp-gateway');
    expect(refusals.map((event) => [event.session, event.data['action'], event.data['code']])).toEqual([
      [session, 'read_note', 'SESSION_ENDED'],
      [session, 'write_note', 'SESSION_ENDED'],
    ]);
  });

  it('judges each call with its own provenance, with no plan per call and one policy evaluation per call', async () => {
    let evaluations = 0;
    const guarded = compilePolicy({
      version: 1,
      rules: [
        {
          id: 'trusted-reads',
          actions: ['read_note'],
          effect: 'allow',
          when: { provenance: ['USER_TRUSTED'] },
        },
      ],
    });
    const counting = new Proxy(guarded, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key === 'evaluate') {
          return (...args: Parameters<PolicyEvaluator['evaluate']>) => {
            evaluations++;
            return target.evaluate(...args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const started = await start({ policy: counting });
    const trusted = await started.client.callTool({ name: 'read_note', arguments: { path: '/a' } });
    const untrusted = await started.client.callTool({
      name: 'read_note',
      arguments: { path: '/a' },
      _meta: { 'ape/provenance': 'EXTERNAL_UNTRUSTED' },
    });
    expect(trusted.isError).toBeUndefined();
    expect(decisionOf(untrusted)).toMatchObject({ code: 'POLICY_DENY', rules: ['default'] });
    expect(started.fixture.calls).toHaveBeenCalledTimes(1);
    expect(evaluations).toBe(2);
    const types = started.audit.events.map((event) => event.type);
    expect(types).not.toContain('plan.approved');
    expect(types.filter((type) => type === 'plan.extended')).toHaveLength(2);
    const provenances = started.audit.events
      .filter((event) => event.type === 'decision.made')
      .map((event) => event.data['provenance']);
    expect(provenances).toEqual(['USER_TRUSTED', 'EXTERNAL_UNTRUSTED']);
  });

  it('fails to start with INTERNAL, serving nothing, when the session cannot be opened (the audit sink fails)', async () => {
    const fixture = createNotesServer();
    const failing = {
      append: () => Promise.reject(new Error('disk full')),
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    await expect(
      createInMemoryMcpGateway({ policy: budgets, server: fixture.server, audit: failing }),
    ).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/cannot start the APE session/),
    });
    expect(fixture.calls).not.toHaveBeenCalled();
  });
});
