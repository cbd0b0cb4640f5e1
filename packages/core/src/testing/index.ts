/**
 * Test helpers for APE integrators: fakes of the core ports (FakeClock, fake authority, recording
 * audit sink, scripted escalation handler, stub policy). Import from `@ape/core/testing`, as ESM or
 * CommonJS; nothing here imports a test runner. The contract suites that every implementation of a
 * port must pass live in `@ape/core/contracts` (they import vitest).
 */
export { FakeClock } from './fake-clock.js';
export {
  createFakeAuthority,
  type FakeAuthority,
  type FakeAuthorityOptions,
  type RecordedRevocation,
} from './fake-authority.js';
export {
  createRecordingAuditSink,
  type RecordingAuditSink,
  type RecordingAuditSinkOptions,
} from './recording-audit-sink.js';
export {
  createScriptedEscalationHandler,
  type ScriptedAnswer,
  type ScriptedEscalationHandler,
} from './scripted-escalation-handler.js';
export { createStubPolicy, type StubPolicy, type StubPolicyOptions } from './stub-policy.js';
