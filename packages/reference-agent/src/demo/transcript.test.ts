import type { AuditRecord } from '@ape/audit';
import { describe, expect, it } from 'vitest';
import type { AgentRunResult, StepRecord } from '../agent.js';
import { createDemoStyle } from './style.js';
import { printStep, printSummary, printTaskError, type Transcript } from './transcript.js';

function transcript(): Transcript & { readonly lines: string[] } {
  const lines: string[] = [];
  return { style: createDemoStyle(false), lines, line: (text = '') => lines.push(text) };
}

function record(type: string, data: Record<string, unknown>): AuditRecord {
  return {
    seq: 0,
    ts: '2026-11-30T00:00:00.000Z',
    tenant: 't',
    session: 's',
    type,
    data,
    prev: '',
    hash: '',
  } as AuditRecord;
}

const step: StepRecord = {
  index: 0,
  action: 'send_email',
  args: { to: 'a@example.com', body: 'x'.repeat(50) },
  provenance: 'USER_TRUSTED',
  sources: [],
  outcome: 'executed',
};

describe('printStep', () => {
  it('shows an approval without a reason as approved by the approver, and cuts long argument values', () => {
    const out = transcript();
    printStep(
      out,
      [
        record('decision.made', { stepIndex: 0, decision: 'ESCALATE', rules: ['mail'] }),
        record('escalation.approved', { stepIndex: 0, approver: 'alice' }),
      ],
      step,
    );
    expect(out.lines[0]).toBe(`    send_email {"to":"a@example.com","body":"${'x'.repeat(37)}..."}`);
    expect(out.lines[1]).toBe('      ESCALATE [mail] → approved by alice → ran');
  });

  it('names a step refused before any decision REFUSED, with the rules and code of its error', () => {
    const out = transcript();
    printStep(out, [], {
      ...step,
      provenance: 'EXTERNAL_UNTRUSTED',
      outcome: 'refused',
      error: { code: 'RUNTIME_STATE', message: 'the session is terminated', rules: ['r1'] },
    });
    expect(out.lines[0]).toContain('← EXTERNAL_UNTRUSTED');
    expect(out.lines[0]).not.toContain(' from ');
    expect(out.lines[1]).toBe('      REFUSED [r1] → RUNTIME_STATE: the session is terminated');
  });

  it('prints a denial without a reason string as the verdict and the error code alone', () => {
    const out = transcript();
    printStep(out, [record('decision.made', { stepIndex: 0, decision: 'DENY', rules: [] })], {
      ...step,
      outcome: 'refused',
      error: { code: 'POLICY_DENY', message: 'denied', rules: [] },
    });
    expect(out.lines[1]).toBe('      DENY (POLICY_DENY)');
  });

  it("gives the approver's reason of a denied escalation", () => {
    const out = transcript();
    printStep(
      out,
      [
        record('decision.made', { stepIndex: 0, decision: 'ESCALATE', rules: ['mail'] }),
        record('escalation.denied', { stepIndex: 0, reason: 'not today' }),
      ],
      { ...step, outcome: 'refused', error: { code: 'ESCALATION_DENIED', message: 'denied', rules: [] } },
    );
    expect(out.lines[1]).toBe('      ESCALATE [mail] → ESCALATION_DENIED: not today');
  });
});

describe('printTaskError and printSummary', () => {
  it('prints a task error without rules, and nothing for a task without one', () => {
    const out = transcript();
    const completed: AgentRunResult = { task: 't', mode: 'plan', status: 'completed', steps: [] };
    printTaskError(out, completed);
    expect(out.lines).toEqual([]);
    printTaskError(out, {
      ...completed,
      status: 'refused',
      error: { code: 'PLAN_INVALID', message: 'bad plan', rules: [] },
    });
    expect(out.lines).toEqual(['    PLAN_INVALID: bad plan']);
  });

  it('says an unverified log has an unknown problem when none is given, and that scenarios failed', () => {
    const out = transcript();
    printSummary(out, { path: '/tmp/audit.jsonl', records: 3, verified: false }, 1, 2);
    expect(out.lines).toContain('✘ audit log: 3 records, hash chain NOT verified (unknown problem)');
    expect(out.lines.at(-1)).toBe('1 of 2 scenarios did not end as expected.');
  });
});
