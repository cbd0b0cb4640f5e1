import { describe, expect, it } from 'vitest';
import { ApeError } from './errors.js';
import {
  nextState,
  RUNTIME_EVENTS,
  RUNTIME_STATES,
  type RuntimeEvent,
  type RuntimeState,
  TRANSITIONS,
  transition,
} from './state-machine.js';

/** The golden table: every legal transition. Everything else must be refused. */
const LEGAL: ReadonlyArray<readonly [RuntimeState, RuntimeEvent, RuntimeState]> = [
  ['INITIALIZED', 'SET_INTENT', 'INTENT_SET'],
  ['INITIALIZED', 'TERMINATE', 'TERMINATED'],
  ['INTENT_SET', 'UPDATE_INTENT', 'INTENT_SET'],
  ['INTENT_SET', 'APPROVE_PLAN', 'PLAN_APPROVED'],
  ['INTENT_SET', 'BEGIN_CALL', 'EXECUTING'],
  ['INTENT_SET', 'TERMINATE', 'TERMINATED'],
  ['PLAN_APPROVED', 'UPDATE_INTENT', 'INTENT_SET'],
  ['PLAN_APPROVED', 'APPROVE_PLAN', 'PLAN_APPROVED'],
  ['PLAN_APPROVED', 'BEGIN_STEP', 'EXECUTING'],
  ['PLAN_APPROVED', 'TERMINATE', 'TERMINATED'],
  ['EXECUTING', 'UPDATE_INTENT', 'INTENT_SET'],
  ['EXECUTING', 'APPROVE_PLAN', 'PLAN_APPROVED'],
  ['EXECUTING', 'BEGIN_STEP', 'EXECUTING'],
  ['EXECUTING', 'BEGIN_CALL', 'EXECUTING'],
  ['EXECUTING', 'REQUIRE_ESCALATION', 'ESCALATION_REQUIRED'],
  ['EXECUTING', 'TERMINATE', 'TERMINATED'],
  ['ESCALATION_REQUIRED', 'APPROVE_ESCALATION', 'EXECUTING'],
  ['ESCALATION_REQUIRED', 'DENY_ESCALATION', 'TERMINATED'],
  ['ESCALATION_REQUIRED', 'TERMINATE', 'TERMINATED'],
];

const legalKey = new Set(LEGAL.map(([state, event]) => `${state}/${event}`));
const illegal = RUNTIME_STATES.flatMap((state) =>
  RUNTIME_EVENTS.filter((event) => !legalKey.has(`${state}/${event}`)).map(
    (event) => [state, event] as const,
  ),
);

describe('runtime state machine', () => {
  it.each(LEGAL)('%s --%s--> %s', (state, event, expected) => {
    expect(transition(state, event)).toBe(expected);
    expect(nextState(state, event)).toBe(expected);
  });

  it.each(illegal)('refuses %s --%s--> with RUNTIME_STATE', (state, event) => {
    expect(nextState(state, event)).toBeUndefined();
    try {
      transition(state, event);
      expect.unreachable('the transition must throw');
    } catch (error) {
      expect(ApeError.isInstance(error) && error.code).toBe('RUNTIME_STATE');
      expect((error as ApeError).details).toMatchObject({ state, event });
      expect((error as Error).message).toContain(state);
    }
  });

  it('covers all 54 (state, event) pairs between the two tables', () => {
    expect(LEGAL.length + illegal.length).toBe(RUNTIME_STATES.length * RUNTIME_EVENTS.length);
  });

  it('includes EXECUTING → ESCALATION_REQUIRED, which the seed table forgot', () => {
    expect(TRANSITIONS.EXECUTING.REQUIRE_ESCALATION).toBe('ESCALATION_REQUIRED');
  });

  it('lets every state but TERMINATED terminate, and TERMINATED is final', () => {
    for (const state of RUNTIME_STATES) {
      if (state === 'TERMINATED') expect(Object.keys(TRANSITIONS[state])).toEqual([]);
      else expect(transition(state, 'TERMINATE')).toBe('TERMINATED');
    }
  });

  it('is immutable data', () => {
    expect(Object.isFrozen(TRANSITIONS)).toBe(true);
    expect(Object.isFrozen(TRANSITIONS.EXECUTING)).toBe(true);
  });
});
