import { describe, expect, it } from 'vitest';
import { isProvenanceLabel } from '../labels.js';
import type { EscalationHandler, EscalationRequest, EscalationResult } from '../ports/escalation-handler.js';
import { withDisposed } from './contract-support.js';

/**
 * How the approver behind the handler under test is scripted for one contract test:
 * `'approve'` and `'deny'` answer so, `'wait'` never answers (only a timeout or an abort can end it).
 */
export type EscalationContractAnswer = 'approve' | 'deny' | 'wait';

/** What the factory given to {@link runEscalationHandlerContract} returns. */
export interface EscalationContractSubject {
  /** The handler under test. */
  readonly handler: EscalationHandler;
  /**
   * For handlers answered from outside (a queue, a web UI): gives the scripted answer to the request
   * that is now pending. Called right after `requestApproval`, except in `'wait'` mode. Handlers that
   * answer on their own (a callback, a scripted terminal) leave it out.
   */
  readonly answer?: () => void | Promise<void>;
  /** Releases what the subject holds (streams, servers); called after each test. */
  readonly dispose?: () => void | Promise<void>;
}

/** The factory: a fresh subject for each test, scripted to answer as `answer` says. */
export type EscalationContractFactory = (
  answer: EscalationContractAnswer,
) => EscalationContractSubject | Promise<EscalationContractSubject>;

/** The request every contract test sends; frozen, as the runtime's requests are. */
const CONTRACT_ESCALATION_REQUEST: EscalationRequest = Object.freeze({
  tenant: 'tenant-contract',
  session: 'session-contract',
  stepIndex: 0,
  action: 'deploy_production',
  args: Object.freeze({ target: 'production', force: false }),
  provenance: 'USER_TRUSTED',
  decision: Object.freeze({
    decision: 'ESCALATE',
    rules: Object.freeze(['deploys-need-a-human']),
    reason: 'deploying to production needs a human approval',
    policy: 'sha256:contract',
  }),
} as const);

/**
 * Fails unless `result` is a well-formed {@link EscalationResult}: `approved` a boolean, `approver`
 * a non-empty string, `provenance` one of the three labels, `reason` absent or a string.
 */
function expectWellFormedEscalationResult(result: EscalationResult): void {
  expect(typeof result).toBe('object');
  expect(result).not.toBeNull();
  expect(typeof result.approved).toBe('boolean');
  expect(typeof result.approver).toBe('string');
  expect(result.approver.trim()).not.toBe('');
  expect(isProvenanceLabel(result.provenance)).toBe(true);
  if (result.reason !== undefined) expect(typeof result.reason).toBe('string');
}

/** Asks `subject`'s handler about the contract request, lets the scripted approver answer, and returns the result. */
async function askAndAnswer(subject: EscalationContractSubject): Promise<EscalationResult> {
  const pending = subject.handler.requestApproval(CONTRACT_ESCALATION_REQUEST, new AbortController().signal);
  await subject.answer?.();
  return pending;
}

/**
 * The behaviour every {@link EscalationHandler} must show, ours or yours. Call it inside a vitest
 * test file; `create` returns a fresh subject per test, scripted to answer as asked.
 *
 * It checks that the handler resolves (never rejects) to a well-formed result; that an approval
 * always names an approver and a provenance; that an approver's denial is never turned into an
 * approval; that an already-aborted signal and an abort while waiting both settle with a denial
 * (a handler that hangs past the abort fails by the test's timeout); that concurrent requests
 * settle independently; and that requests are never modified (they are frozen here, as the runtime's are).
 */
export function runEscalationHandlerContract(name: string, create: EscalationContractFactory): void {
  const withSubject = (
    answer: EscalationContractAnswer,
    body: (subject: EscalationContractSubject) => Promise<void>,
  ): Promise<void> => withDisposed(create(answer), body);

  describe(`EscalationHandler contract: ${name}`, () => {
    it('resolves to a well-formed result when the approver approves', async () => {
      await withSubject('approve', async (subject) => {
        const result = await askAndAnswer(subject);
        expectWellFormedEscalationResult(result);
      });
    });

    it('never resolves approved: true without an approver identity', async () => {
      await withSubject('approve', async (subject) => {
        const result = await askAndAnswer(subject);
        if (result.approved) {
          expect(typeof result.approver).toBe('string');
          expect(result.approver.trim().length).toBeGreaterThan(0);
        }
      });
    });

    it('resolves to a denial when the approver denies', async () => {
      await withSubject('deny', async (subject) => {
        const result = await askAndAnswer(subject);
        expectWellFormedEscalationResult(result);
        expect(result.approved).toBe(false);
      });
    });

    it('denies without asking when the signal is already aborted, even if the approver would approve', async () => {
      await withSubject('approve', async (subject) => {
        const result = await subject.handler.requestApproval(
          CONTRACT_ESCALATION_REQUEST,
          AbortSignal.abort(),
        );
        expectWellFormedEscalationResult(result);
        expect(result.approved).toBe(false);
      });
    });

    it('settles with a denial when the signal aborts while waiting for an answer', async () => {
      await withSubject('wait', async (subject) => {
        const controller = new AbortController();
        const pending = subject.handler.requestApproval(CONTRACT_ESCALATION_REQUEST, controller.signal);
        await Promise.resolve();
        controller.abort(new Error('the runtime stopped waiting'));
        const result = await pending;
        expectWellFormedEscalationResult(result);
        expect(result.approved).toBe(false);
      });
    }, 5_000);

    it('settles concurrent requests independently, each with its own denial when each is aborted', async () => {
      await withSubject('wait', async (subject) => {
        const first = new AbortController();
        const second = new AbortController();
        const pendingFirst = subject.handler.requestApproval(CONTRACT_ESCALATION_REQUEST, first.signal);
        const pendingSecond = subject.handler.requestApproval(
          { ...CONTRACT_ESCALATION_REQUEST, stepIndex: 1 },
          second.signal,
        );
        first.abort();
        const resultFirst = await pendingFirst;
        expect(resultFirst.approved).toBe(false);
        second.abort();
        const resultSecond = await pendingSecond;
        expectWellFormedEscalationResult(resultSecond);
        expect(resultSecond.approved).toBe(false);
      });
    }, 5_000);

    it('returns a promise without throwing synchronously for a request with no arguments', async () => {
      await withSubject('deny', async (subject) => {
        const withoutArguments = Object.freeze({ ...CONTRACT_ESCALATION_REQUEST, args: Object.freeze({}) });
        let pending: Promise<EscalationResult> | undefined;
        expect(() => {
          pending = subject.handler.requestApproval(withoutArguments, new AbortController().signal);
        }).not.toThrow();
        await subject.answer?.();
        const result = await pending;
        expect(result).toBeDefined();
        if (result !== undefined) {
          expectWellFormedEscalationResult(result);
          expect(result.approved).toBe(false);
        }
      });
    });
  });
}
