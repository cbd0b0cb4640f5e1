import type { Tool } from '@ape/core';

/** The tools of one environment over one state holder, and the door to put a run's state in it. */
export interface EnvironmentInstance {
  /** Every tool, by id, in a stable order. */
  readonly tools: ReadonlyMap<string, Tool>;
  /** Puts a fresh state in place; the tools act on it until the next `load`. */
  load(state: unknown): void;
  /** The state the tools act on now (the final state after a run). */
  current(): unknown;
}

/**
 * An environment: a domain (workspace, banking, ...) with an in-memory state and TypeScript tools
 * that act on it. A suite (data) names its environment, supplies the initial state and the tasks.
 */
export interface Environment {
  readonly id: string;
  readonly description: string;
  /** JSON Schema (draft 2020-12) of the initial state a suite supplies. */
  readonly stateSchema: Readonly<Record<string, unknown>>;
  /** Builds the tools once (their argument schemas are compiled here), over their own state holder. */
  instantiate(): EnvironmentInstance;
}
