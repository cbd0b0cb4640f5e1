import { describe, expect, it } from 'vitest';
import type { TokenBinding } from '../types.js';
import { runAuditSinkContract } from '../contracts/audit-sink-contract.js';
import { runEscalationHandlerContract } from '../contracts/escalation-handler-contract.js';
import { createFakeAuthority } from './fake-authority.js';
import { FakeClock } from './fake-clock.js';
import { createRecordingAuditSink } from './recording-audit-sink.js';
import { createScriptedEscalationHandler } from './scripted-escalation-handler.js';

const binding: TokenBinding = Object.freeze({
  tenant: 'acme',
  session: 'session-1',
  intentVersion: 'a'.repeat(64),
  planHash: 'b'.repeat(64),
  stepIndex: 0,
  action: 'read_file',
  argsHash: 'c'.repeat(64),
});

describe('FakeClock', () => {
  it('moves only forward, by advance or set', () => {
    const clock = new FakeClock(100);
    clock.advance(0);
    clock.advance(5);
    expect(clock.now()).toBe(105);
    clock.set(105);
    clock.set(200);
    expect(clock.now()).toBe(200);
    expect(new FakeClock().now()).toBe(Date.UTC(2026, 0, 1));
  });

  it('refuses negative or non-finite steps and going backwards with RangeError', () => {
    const clock = new FakeClock(100);
    for (const step of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => clock.advance(step)).toThrow(RangeError);
    for (const time of [99, Number.NaN]) expect(() => clock.set(time)).toThrow(RangeError);
    expect(clock.now()).toBe(100);
  });
});

describe('createFakeAuthority', () => {
  it('issues single-use tokens bound to the call and counts the outstanding ones per session', async () => {
    const clock = new FakeClock(0);
    const authority = createFakeAuthority({ tenant: 'acme', clock, ttlMs: 10 });
    const token = await authority.issue(binding);
    await authority.issue({ ...binding, session: 'session-2' });
    expect(authority.issued).toBe(2);
    expect(authority.outstanding()).toBe(2);
    expect(authority.outstanding('session-2')).toBe(1);
    await expect(authority.consume(token, { ...binding, stepIndex: 1 })).rejects.toMatchObject({
      code: 'UNAUTHORIZED_ACTION',
      details: { field: 'stepIndex' },
    });
    await expect(authority.consume(token, binding)).rejects.toMatchObject({
      code: 'UNAUTHORIZED_ACTION',
      details: { field: 'token' },
    });
    clock.advance(10);
    expect(authority.outstanding()).toBe(0);
  });

  it('refuses other tenants, expired tokens, and records revocations with their counts', async () => {
    const clock = new FakeClock(0);
    const authority = createFakeAuthority({ tenant: 'acme', clock, ttlMs: 10 });
    await expect(authority.issue({ ...binding, tenant: 'other' })).rejects.toMatchObject({
      code: 'TENANT_MISMATCH',
    });
    const token = await authority.issue(binding);
    await expect(authority.consume(token, { ...binding, tenant: 'other' })).rejects.toMatchObject({
      code: 'TENANT_MISMATCH',
    });
    clock.advance(10);
    await expect(authority.consume(token, binding)).rejects.toMatchObject({ code: 'AUTHORITY_EXPIRED' });
    const kept = await authority.issue(binding);
    expect(await authority.revokeSession('other', 'session-1', 'explicit')).toBe(0);
    expect(await authority.revokeTenant('other', 'explicit')).toBe(0);
    expect(await authority.revokeTenant('acme', 'terminated')).toBe(1);
    expect(await authority.revoke(kept, 'explicit')).toBe(false);
    expect(authority.revocations).toEqual([
      { scope: 'session', reason: 'explicit', count: 0 },
      { scope: 'tenant', reason: 'explicit', count: 0 },
      { scope: 'tenant', reason: 'terminated', count: 1 },
      { scope: 'token', reason: 'explicit', count: 0 },
    ]);
  });
});

runAuditSinkContract('createRecordingAuditSink', () => createRecordingAuditSink(), {
  read: (sink) => sink.events,
});

runEscalationHandlerContract('createScriptedEscalationHandler', (answer) => ({
  handler: createScriptedEscalationHandler(
    answer === 'wait'
      ? ['hang', 'hang']
      : [{ approved: answer === 'approve', approver: 'contract-approver', provenance: 'USER_TRUSTED' }],
  ),
}));
