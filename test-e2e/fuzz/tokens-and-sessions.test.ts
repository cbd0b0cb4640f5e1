import { MemoryAuditSink, verifyAuditLog } from '@ape/audit';
import { AuthorityManager } from '@ape/authority';
import {
  ApeError,
  type AgentRuntime,
  createRuntime,
  type ProvenanceLabel,
  type TokenBinding,
} from '@ape/core';
import { DenyAllEscalation } from '@ape/escalation';
import { loadPolicy } from '@ape/policy';
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binding, type RuntimeCall, runs, runtimeCalls, seed } from './arbitraries.js';

const POLICY = loadPolicy(join(import.meta.dirname, '..', '..', 'policies', 'untrusted_web.yaml'));

async function refusal(run: () => unknown): Promise<unknown> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return error;
  }
}

function sameBinding(left: TokenBinding, right: TokenBinding): boolean {
  return (Object.keys(left) as (keyof TokenBinding)[]).every((field) => left[field] === right[field]);
}

describe('the token invariant', () => {
  it('a token is accepted exactly once, and only for the binding it was issued for, within its lifetime', async () => {
    await fc.assert(
      fc.asyncProperty(binding, binding, fc.nat(120_000), async (issued, presented, elapsed) => {
        let now = 1_000_000;
        const authority = new AuthorityManager({ tenant: 'acme', clock: { now: () => now }, ttlMs: 60_000 });
        const issue = await refusal(() => authority.issue(issued));
        if (issued.tenant !== 'acme') {
          expect(ApeError.isInstance(issue) && issue.code).toBe('TENANT_MISMATCH');
          return;
        }
        const token = await authority.issue(issued);
        now += elapsed;
        const first = await refusal(() => authority.consume(token, presented));
        const valid = sameBinding(issued, presented) && elapsed < 60_000;
        if (valid) expect(first).toBeUndefined();
        else expect(ApeError.isInstance(first)).toBe(true);
        const second = await refusal(() => authority.consume(token, presented));
        expect(ApeError.isInstance(second)).toBe(true);
        const copy = await refusal(() => authority.consume({ ...token }, issued));
        expect(ApeError.isInstance(copy) && copy.code).toBe('UNAUTHORIZED_ACTION');
      }),
      { numRuns: runs(10_000), seed: seed() },
    );
  });
});

async function play(
  runtime: AgentRuntime,
  call: RuntimeCall,
  advance: (ms: number) => void,
  ran: () => void,
) {
  const provenance = 'provenance' in call ? { provenance: call.provenance as ProvenanceLabel } : undefined;
  switch (call.kind) {
    case 'setIntent':
      return runtime.setIntent(call.intent, provenance!);
    case 'updateIntent':
      return runtime.updateIntent(call.intent, provenance!);
    case 'submitPlan':
      return runtime.submitPlan(call.plan, provenance!);
    case 'executeStep':
      return runtime.executeStep(call.index, () => ran(), {
        args: call.args as Record<string, unknown>,
        provenance: call.provenance as ProvenanceLabel,
      });
    case 'authorize':
      return runtime.authorize(call.index, {
        args: call.args as Record<string, unknown>,
        provenance: call.provenance as ProvenanceLabel,
      });
    case 'advanceClock':
      advance(call.milliseconds);
      return undefined;
    case 'terminate':
      return runtime.terminate('fuzz');
  }
}

describe('random sessions', () => {
  let totalToolRuns = 0;
  const sessionRuns = runs(2_000, 0.1);
  it('only typed errors escape, a tool runs only after its token is consumed, and the audit chain verifies', async () => {
    await fc.assert(
      fc.asyncProperty(runtimeCalls, async (calls) => {
        let now = 1_767_225_600_000;
        const clock = { now: () => now };
        const audit = new MemoryAuditSink();
        const runtime = createRuntime({
          tenant: 'acme',
          policy: POLICY,
          authority: new AuthorityManager({ tenant: 'acme', clock }),
          audit,
          escalation: new DenyAllEscalation(),
          clock,
        });
        let toolRuns = 0;
        for (const call of calls) {
          const error = await refusal(() =>
            play(
              runtime,
              call,
              (ms) => {
                now += ms;
              },
              () => {
                toolRuns++;
              },
            ),
          );
          if (error !== undefined && !ApeError.isInstance(error)) throw error;
        }
        await refusal(() => runtime.terminate('end of the case'));
        const records = audit.records();
        const executed = records.filter((record) => record.type === 'tool.executed').length;
        const consumed = records.filter((record) => record.type === 'token.consumed').length;
        expect(executed).toBe(toolRuns);
        expect(consumed).toBe(toolRuns);
        const verification = await verifyAuditLog(audit.lines());
        expect(verification.ok).toBe(true);
        expect(verification.records).toBe(records.length);
        totalToolRuns += toolRuns;
      }),
      { numRuns: sessionRuns, seed: seed() },
    );
    // The generator does reach the tools, not only the refusals (given enough cases).
    if (sessionRuns >= 1_000) expect(totalToolRuns).toBeGreaterThan(0);
  });
});
