import type { AuditEvent } from '@ape/core';

/** A deterministic decision event number `n`. */
export function decisionEvent(n: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    type: 'decision.made',
    tenant: 'tenant-a',
    session: 'session-1',
    time: Date.UTC(2026, 0, 1) + n,
    data: { n, decision: 'ALLOW', rules: ['allow-read'], reason: 'read inside the workspace' },
    ...overrides,
  };
}

/** A full session's worth of events as the runtime emits them, with token fingerprints only. */
export function sessionEvents(
  tenant: string,
  session: string,
  fingerprints: readonly string[],
): AuditEvent[] {
  const base = { tenant, session };
  let time = Date.UTC(2026, 0, 1);
  const at = () => time++;
  const events: AuditEvent[] = [
    { ...base, type: 'session.created', time: at(), data: { policy: 'a'.repeat(64) } },
    {
      ...base,
      type: 'intent.set',
      time: at(),
      data: { version: 'b'.repeat(64), provenance: 'USER_TRUSTED' },
    },
    {
      ...base,
      type: 'plan.approved',
      time: at(),
      data: { planHash: 'c'.repeat(64), steps: fingerprints.length },
    },
  ];
  fingerprints.forEach((fingerprint, step) => {
    events.push(
      {
        ...base,
        type: 'decision.made',
        time: at(),
        data: {
          step,
          action: 'read_file',
          decision: 'ALLOW',
          rules: ['allow-read'],
          args: { path: `/workspace/${step}` },
        },
      },
      { ...base, type: 'token.issued', time: at(), data: { step, fingerprint } },
      { ...base, type: 'token.consumed', time: at(), data: { step, fingerprint } },
      { ...base, type: 'tool.executed', time: at(), data: { step, ok: true, durationMs: 3 } },
    );
  });
  events.push(
    {
      ...base,
      type: 'token.revoked',
      time: at(),
      data: { fingerprints: [...fingerprints], reason: 'terminated' },
    },
    { ...base, type: 'session.terminated', time: at(), data: { reason: 'done' } },
  );
  return events;
}
