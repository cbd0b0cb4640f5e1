import { MemoryAuditSink, verifyAuditLog } from '@ape/audit';
import { AuthorityManager } from '@ape/authority';
import {
  ApeError,
  type AgentRuntime,
  type AuthorityToken,
  createRuntime,
  type ProvenanceLabel,
  type TokenBinding,
} from '@ape/core';
import { DenyAllEscalation } from '@ape/escalation';
import { loadPolicy } from '@ape/policy';
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binding, type RuntimeCall, runs, runtimeCalls, seed, toolReachingCalls } from './arbitraries.js';

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

const FIELDS = ['tenant', 'session', 'intentVersion', 'planHash', 'stepIndex', 'action', 'argsHash'] as const;

/** Mostly this authority's tenant, so most cases get past issue. */
const issuedBinding = fc
  .tuple(binding, fc.nat(9))
  .map(([value, roll]): TokenBinding => (roll < 8 ? { ...value, tenant: 'acme' } : value));

/** The binding presented at consume: mostly the issued one, else one field changed, else anything. */
const presentedFor = (issued: TokenBinding) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(issued) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...FIELDS), binding)
        .map(([field, other]): TokenBinding => ({ ...issued, [field]: other[field] })),
    },
    { weight: 1, arbitrary: binding },
  );

describe('the token invariant', () => {
  it('a token is accepted exactly once, and only for the binding it was issued for, within its lifetime', async () => {
    let accepted = 0;
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        issuedBinding.chain((issued) =>
          fc.tuple(
            fc.constant(issued),
            presentedFor(issued),
            fc.oneof({ weight: 3, arbitrary: fc.nat(59_999) }, { weight: 1, arbitrary: fc.nat(120_000) }),
          ),
        ),
        async ([issued, presented, elapsed]) => {
          cases++;
          let now = 1_000_000;
          const authority = new AuthorityManager({
            tenant: 'acme',
            clock: { now: () => now },
            ttlMs: 60_000,
          });
          if (issued.tenant !== 'acme') {
            const issue = await refusal(() => authority.issue(issued));
            expect(ApeError.isInstance(issue) && issue.code).toBe('TENANT_MISMATCH');
            return;
          }
          const token = await authority.issue(issued);
          now += elapsed;
          const copy = await refusal(() => authority.consume({ ...token }, issued));
          expect(ApeError.isInstance(copy) && copy.code).toBe('UNAUTHORIZED_ACTION');
          const first = await refusal(() => authority.consume(token, presented));
          const valid = sameBinding(issued, presented) && elapsed < 60_000;
          if (valid) {
            expect(first).toBeUndefined();
            accepted++;
          } else {
            expect(ApeError.isInstance(first)).toBe(true);
          }
          // The replay is refused whatever happened first, also with the exact issued binding.
          const second = await refusal(() => authority.consume(token, issued));
          expect(ApeError.isInstance(second)).toBe(true);
          if (valid) expect(ApeError.isInstance(second) && second.code).toBe('UNAUTHORIZED_ACTION');
        },
      ),
      { numRuns: runs(10_000), seed: seed() },
    );
    // Most cases reach a successful consume and then its replay, not only refusals.
    expect(accepted).toBeGreaterThan(cases / 3);
  });
});

/** What a session did, kept by {@link play} for the per-call assertions. */
interface SessionLog {
  /** Tokens from `authorize`, in order, with the step they were issued for. */
  readonly tokens: { readonly token: AuthorityToken; readonly index: number }[];
  /** Tokens whose `gate.execute` ran a tool. */
  readonly used: Set<AuthorityToken>;
}

async function play(
  runtime: AgentRuntime,
  call: RuntimeCall,
  advance: (ms: number) => void,
  tool: (index: number) => () => void,
  log: SessionLog,
) {
  const provenance = 'provenance' in call ? { provenance: call.provenance as ProvenanceLabel } : undefined;
  const planned = { path: '/w/a' };
  switch (call.kind) {
    case 'setIntent':
      return runtime.setIntent(call.intent, provenance!);
    case 'updateIntent':
      return runtime.updateIntent(call.intent, provenance!);
    case 'submitPlan':
      return runtime.submitPlan(call.plan, provenance!);
    case 'executeStep':
      return runtime.executeStep(call.index, tool(call.index), {
        args: call.args as Record<string, unknown>,
        provenance: call.provenance as ProvenanceLabel,
      });
    case 'authorize':
      return runtime.authorize(call.index, {
        args: call.args as Record<string, unknown>,
        provenance: call.provenance as ProvenanceLabel,
      });
    case 'executeNext': {
      const index = runtime.nextStepIndex;
      return runtime.executeStep(index, tool(index), { args: planned, ...provenance });
    }
    case 'authorizeNext': {
      const index = runtime.nextStepIndex;
      log.tokens.push({ token: await runtime.authorize(index, { args: planned, ...provenance }), index });
      return undefined;
    }
    case 'gateExecute': {
      if (log.tokens.length === 0) return undefined;
      const { token, index } = log.tokens[call.token % log.tokens.length]!;
      const run = tool(index);
      return runtime.gate.execute(
        token,
        () => {
          // Single use: a token that already ran a tool never runs one again.
          expect(log.used.has(token)).toBe(false);
          log.used.add(token);
          run();
        },
        { index, args: planned },
      );
    }
    case 'advanceClock':
      advance(call.milliseconds);
      return undefined;
    case 'terminate':
      return runtime.terminate('fuzz');
  }
}

describe('random sessions', () => {
  let totalSessions = 0;
  let sessionsWithRuns = 0;
  const sessionRuns = runs(2_000, 0.1);
  it('only typed errors escape, each tool runs only after its own token is consumed, and the audit chain verifies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 4, arbitrary: toolReachingCalls }, { weight: 1, arbitrary: runtimeCalls }),
        async (calls) => {
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
          const consumedFingerprints = new Set<unknown>();
          // Runs inside the gate: the audit must already hold this call's token.consumed, for this
          // step, as the latest consumption, and one consumption more than the tools run so far.
          const tool = (index: number) => () => {
            const consumed = audit.records().filter((record) => record.type === 'token.consumed');
            const latest = consumed.at(-1)?.data;
            expect(consumed.length).toBe(toolRuns + 1);
            expect(latest?.['stepIndex']).toBe(index);
            expect(consumedFingerprints.has(latest?.['fingerprint'])).toBe(false);
            consumedFingerprints.add(latest?.['fingerprint']);
            toolRuns++;
          };
          const log: SessionLog = { tokens: [], used: new Set() };
          for (const call of calls) {
            const error = await refusal(() =>
              play(
                runtime,
                call,
                (ms) => {
                  now += ms;
                },
                tool,
                log,
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
          totalSessions++;
          if (toolRuns > 0) sessionsWithRuns++;
        },
      ),
      { numRuns: sessionRuns, seed: seed() },
    );
    // The generator reaches the tools in most sessions, not only the refusals.
    expect(sessionsWithRuns).toBeGreaterThan(totalSessions / 2);
  });
});
