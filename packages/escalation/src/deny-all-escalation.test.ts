import { runEscalationHandlerContract } from '@ape/core/contracts';
import { describe, expect, it } from 'vitest';
import { makeRequest } from './__fixtures__/requests.js';
import { DenyAllEscalation } from './deny-all-escalation.js';

runEscalationHandlerContract('DenyAllEscalation', () => ({ handler: new DenyAllEscalation() }));

describe('DenyAllEscalation', () => {
  it('denies every request as "deny-all" with SYSTEM_TRUSTED provenance and says no approver is configured', async () => {
    const result = await new DenyAllEscalation().requestApproval(makeRequest(), new AbortController().signal);
    expect(result.approved).toBe(false);
    expect(result.approver).toBe('deny-all');
    expect(result.provenance).toBe('SYSTEM_TRUSTED');
    expect(result.reason).toMatch(/no approver is configured/);
  });

  it('denies even a request whose arguments and provenance are fully trusted', async () => {
    const request = makeRequest({ provenance: 'SYSTEM_TRUSTED', args: {} });
    const result = await new DenyAllEscalation().requestApproval(request, new AbortController().signal);
    expect(result.approved).toBe(false);
  });

  it('returns a frozen result that a caller cannot turn into an approval', async () => {
    const result = await new DenyAllEscalation().requestApproval(makeRequest(), new AbortController().signal);
    expect(Object.isFrozen(result)).toBe(true);
    expect(() => {
      (result as { approved: boolean }).approved = true;
    }).toThrow(TypeError);
  });

  it('records a custom reason, with control characters escaped', async () => {
    const handler = new DenyAllEscalation({ reason: 'approvals are off\nduring the freeze' });
    const result = await handler.requestApproval(makeRequest(), new AbortController().signal);
    expect(result.reason).toBe('approvals are off\\nduring the freeze');
  });
});
