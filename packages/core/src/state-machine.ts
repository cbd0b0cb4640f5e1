import { RuntimeStateError } from './errors.js';

/** The states of one agent session's runtime (DESIGN.md §1). */
export type RuntimeState =
  | 'INITIALIZED'
  | 'INTENT_SET'
  | 'PLAN_APPROVED'
  | 'EXECUTING'
  | 'ESCALATION_REQUIRED'
  | 'TERMINATED';

/** What can happen to a runtime. */
export type RuntimeEvent =
  /** The first intent of the session. */
  | 'SET_INTENT'
  /** An explicit intent update: the plan is dropped and tokens revoked. */
  | 'UPDATE_INTENT'
  /** A plan passed validation against intent and policy (also a replacement plan). */
  | 'APPROVE_PLAN'
  /** The gate starts a step of the approved plan (plan mode). */
  | 'BEGIN_STEP'
  /** The gate starts a call the model proposed (calls mode); the first one leaves INTENT_SET. */
  | 'BEGIN_CALL'
  /** The policy answered ESCALATE for the current step. */
  | 'REQUIRE_ESCALATION'
  /** The escalation handler approved the step. */
  | 'APPROVE_ESCALATION'
  /** The escalation handler denied, timed out or failed. */
  | 'DENY_ESCALATION'
  /** The session ends, from any state. */
  | 'TERMINATE';

export const RUNTIME_STATES = Object.freeze([
  'INITIALIZED',
  'INTENT_SET',
  'PLAN_APPROVED',
  'EXECUTING',
  'ESCALATION_REQUIRED',
  'TERMINATED',
] as const satisfies readonly RuntimeState[]);

export const RUNTIME_EVENTS = Object.freeze([
  'SET_INTENT',
  'UPDATE_INTENT',
  'APPROVE_PLAN',
  'BEGIN_STEP',
  'BEGIN_CALL',
  'REQUIRE_ESCALATION',
  'APPROVE_ESCALATION',
  'DENY_ESCALATION',
  'TERMINATE',
] as const satisfies readonly RuntimeEvent[]);

type TransitionTable = Readonly<Record<RuntimeState, Readonly<Partial<Record<RuntimeEvent, RuntimeState>>>>>;

/**
 * The transition table: every legal (state, event) pair and the state it leads to. Anything not
 * listed is illegal. Unlike the seed's table it includes EXECUTING → ESCALATION_REQUIRED, and every
 * state but TERMINATED can terminate; TERMINATED is final. Calls mode enters EXECUTING from
 * INTENT_SET through BEGIN_CALL (no plan is approved in that mode).
 */
export const TRANSITIONS: TransitionTable = Object.freeze({
  INITIALIZED: Object.freeze({ SET_INTENT: 'INTENT_SET', TERMINATE: 'TERMINATED' }),
  INTENT_SET: Object.freeze({
    UPDATE_INTENT: 'INTENT_SET',
    APPROVE_PLAN: 'PLAN_APPROVED',
    BEGIN_CALL: 'EXECUTING',
    TERMINATE: 'TERMINATED',
  }),
  PLAN_APPROVED: Object.freeze({
    UPDATE_INTENT: 'INTENT_SET',
    APPROVE_PLAN: 'PLAN_APPROVED',
    BEGIN_STEP: 'EXECUTING',
    TERMINATE: 'TERMINATED',
  }),
  EXECUTING: Object.freeze({
    UPDATE_INTENT: 'INTENT_SET',
    APPROVE_PLAN: 'PLAN_APPROVED',
    BEGIN_STEP: 'EXECUTING',
    BEGIN_CALL: 'EXECUTING',
    REQUIRE_ESCALATION: 'ESCALATION_REQUIRED',
    TERMINATE: 'TERMINATED',
  }),
  ESCALATION_REQUIRED: Object.freeze({
    APPROVE_ESCALATION: 'EXECUTING',
    DENY_ESCALATION: 'TERMINATED',
    TERMINATE: 'TERMINATED',
  }),
  TERMINATED: Object.freeze({}),
});

/** The state `event` leads to from `state`, or `undefined` when the transition is illegal. */
export function nextState(state: RuntimeState, event: RuntimeEvent): RuntimeState | undefined {
  return TRANSITIONS[state]?.[event];
}

/**
 * The state `event` leads to from `state`. Pure: no I/O, no side effects.
 * @throws RuntimeStateError (`RUNTIME_STATE`) when the transition is illegal, naming both.
 */
export function transition(state: RuntimeState, event: RuntimeEvent): RuntimeState {
  const next = nextState(state, event);
  if (next === undefined) {
    throw new RuntimeStateError(`Illegal transition: ${event} is not allowed in state ${state}.`, {
      state,
      event,
      allowed: Object.keys(TRANSITIONS[state] ?? {}),
    });
  }
  return next;
}
