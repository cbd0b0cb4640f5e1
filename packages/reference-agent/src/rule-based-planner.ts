import { type Intent, PlanError } from '@ape/core';
import type {
  AgentStep,
  AgentTask,
  CallHistoryEntry,
  CallPlanner,
  Planner,
  PlannerResult,
  PlanningContext,
} from './planner.js';

/**
 * One rule of the {@link RuleBasedPlanner}: a pattern over one clause of the task and the steps it
 * stands for. Step references (`inputs[...].step`) are relative to the rule's own first step; the
 * planner shifts them when clauses are chained.
 */
export interface PlannerRule {
  /** A stable id, recorded in the intent's description. */
  readonly id: string;
  /** Matched against the whole clause (anchor it with `^...$`). */
  readonly pattern: RegExp;
  /** The steps for a match. Must be deterministic: same match, same steps. */
  readonly steps: (match: RegExpExecArray) => readonly AgentStep[];
}

const PATH = '(/workspace(?:/\\S*)?)';
const URL = '(https?://\\S+)';
const ADDRESS = '([^@\\s]+@[^@\\s]+)';

/**
 * The rules the demo and the tests use. The last two stand in for a language model that reads a
 * page and takes its arguments from it: exactly the behaviour an indirect prompt injection
 * exploits. APE's answer is not to make the planner smarter but to label what it read: those
 * arguments reach the gate labelled `EXTERNAL_UNTRUSTED`.
 */
export const DEFAULT_PLANNER_RULES: readonly PlannerRule[] = Object.freeze([
  {
    id: 'list-directory',
    pattern: new RegExp(`^list ${PATH}$`, 'i'),
    steps: (match) => [{ action_id: 'list_directory', args: { path: match[1] } }],
  },
  {
    id: 'read-file',
    pattern: new RegExp(`^read ${PATH}$`, 'i'),
    steps: (match) => [{ action_id: 'read_file', args: { path: match[1] } }],
  },
  {
    id: 'write-text',
    pattern: new RegExp(`^write "([^"]*)" to ${PATH}$`, 'i'),
    steps: (match) => [{ action_id: 'write_file', args: { path: match[2], content: match[1] } }],
  },
  {
    id: 'copy-file',
    pattern: new RegExp(`^copy ${PATH} to ${PATH}$`, 'i'),
    steps: (match) => [
      { action_id: 'read_file', args: { path: match[1] } },
      {
        action_id: 'write_file',
        args: { path: match[2] },
        inputs: { content: { step: 0, field: 'content' } },
      },
    ],
  },
  {
    id: 'delete-file',
    pattern: new RegExp(`^delete ${PATH}$`, 'i'),
    steps: (match) => [{ action_id: 'delete_file', args: { path: match[1] } }],
  },
  {
    id: 'email-file',
    pattern: new RegExp(`^e-?mail ${PATH} to ${ADDRESS}$`, 'i'),
    steps: (match) => [
      { action_id: 'read_file', args: { path: match[1] } },
      {
        action_id: 'send_email',
        args: { to: match[2], subject: `File ${match[1]}` },
        inputs: { body: { step: 0, field: 'content' } },
      },
    ],
  },
  {
    id: 'deploy',
    pattern: /^deploy ([a-z][a-z0-9-]*) ([0-9]+\.[0-9]+\.[0-9]+) to (production|staging)$/i,
    steps: (match) => [
      {
        action_id: 'deploy_production',
        args: { service: match[1], version: match[2], environment: match[3]?.toLowerCase() },
      },
    ],
  },
  {
    id: 'summarise-page',
    pattern: new RegExp(`^summari[sz]e ${URL} into ${PATH}$`, 'i'),
    steps: (match) => [
      { action_id: 'fetch_url', args: { url: match[1] } },
      { action_id: 'write_file', args: { path: match[2] }, inputs: { content: { step: 0, field: 'text' } } },
    ],
  },
  {
    id: 'tidy-as-described',
    pattern: new RegExp(`^tidy the workspace as described at ${URL}$`, 'i'),
    steps: (match) => [
      { action_id: 'fetch_url', args: { url: match[1] } },
      {
        action_id: 'delete_file',
        description: 'delete the file the page names',
        inputs: { path: { step: 0, field: 'text', match: '^delete (/workspace/\\S+)$' } },
      },
    ],
  },
  {
    id: 'send-as-requested',
    pattern: new RegExp(`^send what ${URL} asks for$`, 'i'),
    steps: (match) => [
      { action_id: 'fetch_url', args: { url: match[1] } },
      {
        action_id: 'read_file',
        description: 'read the file the page names',
        inputs: { path: { step: 0, field: 'text', match: 'read (/workspace/\\S+)' } },
      },
      {
        action_id: 'send_email',
        description: 'send it where the page says',
        args: { subject: 'As requested' },
        inputs: {
          to: { step: 0, field: 'text', match: 'to ([^@\\s]+@[A-Za-z0-9.-]*[A-Za-z0-9])' },
          body: { step: 1, field: 'content' },
        },
      },
    ],
  },
] satisfies PlannerRule[]);

/** Options of {@link RuleBasedPlanner}. */
export interface RuleBasedPlannerOptions {
  /** The rules, tried in order for each clause (default {@link DEFAULT_PLANNER_RULES}). */
  readonly rules?: readonly PlannerRule[];
}

/** Clauses of a task are chained with "then": `list /workspace, then read /workspace/a.txt`. */
const CLAUSE_SEPARATOR = /,?\s+then\s+/i;
const MAX_TASK_LENGTH = 4096;

/** The steps of a task, and where each clause's steps start. */
interface ClausedPlan {
  readonly steps: readonly AgentStep[];
  /** `clauseOf[i]` is the clause of step `i`. */
  readonly clauseOf: readonly number[];
  readonly intent: Intent;
}

/**
 * A deterministic planner without a language model: it splits the task into clauses joined by
 * "then", matches each clause against its rules in order, and concatenates their steps. The intent
 * it requests allows exactly the actions of the plan and nothing else.
 *
 * It plans in both modes. As a {@link Planner} it returns the whole plan; as a {@link CallPlanner}
 * it proposes the same steps one call at a time, and when a call is refused or fails it drops the
 * rest of that clause (its later steps need the missing output) and goes on with the next clause,
 * as a model that reads the refusal and moves on would.
 *
 * Same task, same rules: same intent and plan, byte for byte; same history, same next call.
 */
export class RuleBasedPlanner implements Planner, CallPlanner {
  readonly #rules: readonly PlannerRule[];

  constructor(options: RuleBasedPlannerOptions = {}) {
    this.#rules = options.rules ?? DEFAULT_PLANNER_RULES;
  }

  /**
   * @throws PlanError (`PLAN_INVALID`, `details.clause`) when a clause matches no rule, or the task
   *   is empty or longer than 4096 characters.
   */
  plan(task: AgentTask, _context: PlanningContext): PlannerResult {
    const planned = this.#plan(task);
    return { intent: planned.intent, plan: { steps: [...planned.steps] } };
  }

  /**
   * The intent of the whole task, as {@link RuleBasedPlanner.plan} requests it.
   *
   * @throws PlanError (`PLAN_INVALID`) as {@link RuleBasedPlanner.plan} does.
   */
  intent(task: AgentTask, _context: PlanningContext): Intent {
    return this.#plan(task).intent;
  }

  /**
   * The next step of the task's plan given what happened to the calls proposed so far; `inputs`
   * are rewritten to point at the positions in `history` of the calls that produced them.
   *
   * @throws PlanError (`PLAN_INVALID`) as {@link RuleBasedPlanner.plan} does, or when `history`
   *   holds more calls than the plan has steps.
   */
  next(
    task: AgentTask,
    _context: PlanningContext,
    history: readonly CallHistoryEntry[],
  ): AgentStep | undefined {
    const { steps, clauseOf } = this.#plan(task);
    // Walk the history along the plan: which plan step each call was, and where the plan goes on.
    const positionOf = new Map<number, number>();
    let cursor = 0;
    for (const [position, entry] of history.entries()) {
      if (cursor >= steps.length) {
        throw new PlanError('The history holds more calls than the task has steps.', {
          field: 'history',
          step: position,
        });
      }
      positionOf.set(cursor, position);
      if (entry.outcome === 'executed') {
        cursor++;
      } else {
        const clause = clauseOf[cursor];
        while (cursor < steps.length && clauseOf[cursor] === clause) cursor++;
      }
    }
    const step = steps[cursor];
    if (step === undefined) return undefined;
    if (step.inputs === undefined) return step;
    const inputs = Object.fromEntries(
      Object.entries(step.inputs).map(([name, reference]) => [
        name,
        { ...reference, step: positionOf.get(reference.step) ?? reference.step },
      ]),
    );
    return { ...step, inputs };
  }

  #plan(task: AgentTask): ClausedPlan {
    const text = typeof task?.text === 'string' ? task.text.trim() : '';
    if (text.length === 0 || text.length > MAX_TASK_LENGTH) {
      throw new PlanError(`The task must be 1 to ${MAX_TASK_LENGTH} characters of text.`, { field: 'text' });
    }
    const steps: AgentStep[] = [];
    const clauseOf: number[] = [];
    const used: string[] = [];
    text.split(CLAUSE_SEPARATOR).forEach((clause, clauseIndex) => {
      const { rule, match } = this.#match(clause, clauseIndex);
      used.push(rule.id);
      const offset = steps.length;
      for (const step of rule.steps(match)) {
        steps.push(shift(step, offset));
        clauseOf.push(clauseIndex);
      }
    });
    const actions = [...new Set(steps.map((step) => step.action_id))].sort();
    return {
      steps,
      clauseOf,
      intent: {
        allowed_actions: actions,
        forbidden_actions: [],
        scope: text,
        description: `Planned by the rule-based planner (rules: ${used.join(', ')}).`,
      },
    };
  }

  #match(clause: string, clauseIndex: number): { rule: PlannerRule; match: RegExpExecArray } {
    for (const rule of this.#rules) {
      rule.pattern.lastIndex = 0;
      const match = rule.pattern.exec(clause.trim());
      if (match !== null) return { rule, match };
    }
    throw new PlanError(`No planner rule understands "${clause}".`, { clause: clauseIndex, field: 'text' });
  }
}

function shift(step: AgentStep, offset: number): AgentStep {
  if (step.inputs === undefined || offset === 0) return step;
  const inputs = Object.fromEntries(
    Object.entries(step.inputs).map(([name, reference]) => [
      name,
      { ...reference, step: reference.step + offset },
    ]),
  );
  return { ...step, inputs };
}
