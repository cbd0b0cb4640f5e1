import { defineTool, type ProvenanceLabel, type Tool } from '@ape/core';
import type { Environment } from './environment.js';

/**
 * The error a simulated service answers with (unknown id, insufficient funds, ...). It is the tool's
 * result as the model would see it, never an APE decision: the runner records it and the agent
 * carries on, as with a real API's 404.
 */
export class ToolFailure extends Error {
  override readonly name = 'ToolFailure';
}

/**
 * Holds the state of the run in progress. Tools are defined (and their argument schemas compiled)
 * once per suite; the runner puts a fresh copy of the suite's state here before every run.
 */
export interface StateHolder<State> {
  current(): State;
  replace(state: State): void;
}

/** A holder that refuses to hand out a state before one was put in it. */
export function createStateHolder<State>(): StateHolder<State> {
  let state: State | undefined;
  return {
    current() {
      if (state === undefined) throw new ToolFailure('no environment state is loaded');
      return state;
    },
    replace(next) {
      state = next;
    },
  };
}

/** One tool of an environment: its id, what it does (for the docs), its argument schema and behaviour. */
export interface ToolSpec<State> {
  readonly id: string;
  readonly description: string;
  readonly properties: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly required?: readonly string[];
  /**
   * Declared only for the service's own curated data (balances, listings, the user's profile) and
   * receipts made of ids and statuses the service generates; never for output that can hold free
   * text written by third parties (reviews, messages, documents) or echoes of the arguments.
   */
  readonly outputLabel?: ProvenanceLabel;
  readonly run: (state: State, args: Readonly<Record<string, unknown>>) => unknown;
}

/** Builds the `@ape/core` tools of an environment over `holder`; every schema is closed (no extra keys). */
export function buildTools<State>(
  holder: StateHolder<State>,
  specs: readonly ToolSpec<State>[],
): readonly Tool[] {
  return Object.freeze(
    specs.map((spec) =>
      defineTool({
        id: spec.id,
        argsSchema: {
          type: 'object',
          additionalProperties: false,
          required: [...(spec.required ?? [])],
          properties: spec.properties,
        },
        ...(spec.outputLabel === undefined ? {} : { outputLabel: spec.outputLabel }),
        run: (args) => spec.run(holder.current(), args),
      }),
    ),
  );
}

/**
 * An environment whose tools are `specs` over one state holder: each `instantiate` builds the tools
 * (compiling their argument schemas) and `load` puts a run's state in the holder.
 */
export function defineEnvironment<State>(definition: {
  readonly id: string;
  readonly description: string;
  readonly stateSchema: Readonly<Record<string, unknown>>;
  readonly tools: readonly ToolSpec<State>[];
}): Environment {
  const { tools, ...described } = definition;
  return Object.freeze({
    ...described,
    instantiate() {
      const holder = createStateHolder<State>();
      const built = buildTools(holder, tools);
      return {
        tools: new Map(built.map((tool) => [tool.id, tool])),
        load: (state: unknown) => holder.replace(state as State),
        current: () => holder.current(),
      };
    },
  });
}

/**
 * A closed object schema (no keys but `properties`) that requires every one of its `properties`:
 * the shape of every record in an environment's state.
 */
export function closedObject(
  properties: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties), properties };
}

/** The schema of a person: a name and an e-mail address. */
export const PERSON_SCHEMA = Object.freeze(
  closedObject({ name: { type: 'string' }, email: { type: 'string' } }),
);

/** Schema fragments used by every environment. */
export const S = Object.freeze({
  text: Object.freeze({ type: 'string', maxLength: 20_000 }),
  id: Object.freeze({ type: 'string', minLength: 1, maxLength: 64 }),
  email: Object.freeze({ type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 254 }),
  emails: Object.freeze({
    type: 'array',
    maxItems: 50,
    items: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 254 },
  }),
  date: Object.freeze({ type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
  dateTime: Object.freeze({ type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}$' }),
  amount: Object.freeze({ type: 'number', exclusiveMinimum: 0, maximum: 1_000_000_000 }),
  count: Object.freeze({ type: 'integer', minimum: 1, maximum: 1000 }),
});

/** Case-insensitive substring test used by every search tool. */
export function mentions(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

/**
 * What every search tool answers: the items of which some field (`fields`) mentions `query`, in
 * order, or a {@link ToolFailure} `<miss> "<query>"` when none does.
 */
export function search<T>(
  items: readonly T[],
  query: string,
  fields: (item: T) => readonly string[],
  miss: string,
): T[] {
  const found = items.filter((item) => fields(item).some((field) => mentions(field, query)));
  if (found.length === 0) throw new ToolFailure(`${miss} ${JSON.stringify(query)}`);
  return found;
}

/** The argument `name` as a string (the schema has already checked it when present). */
export function str(args: Readonly<Record<string, unknown>>, name: string): string {
  const value = args[name];
  return typeof value === 'string' ? value : '';
}

/** The optional argument `name` as a string, or `undefined`. */
export function optionalStr(args: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = args[name];
  return typeof value === 'string' ? value : undefined;
}

/** The argument `name` as a list of strings. */
export function strings(args: Readonly<Record<string, unknown>>, name: string): string[] {
  const value = args[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** The argument `name` as a number (0 when absent; the schema requires it where it matters). */
export function num(args: Readonly<Record<string, unknown>>, name: string): number {
  const value = args[name];
  return typeof value === 'number' ? value : 0;
}

/** The element of `items` whose `id` is `id`, or a {@link ToolFailure} naming what was looked up. */
export function findById<T extends { readonly id: string }>(
  items: readonly T[],
  id: string,
  what: string,
): T {
  const found = items.find((item) => item.id === id);
  if (found === undefined) throw new ToolFailure(`no ${what} with id ${JSON.stringify(id)}`);
  return found;
}

/** The next id of a collection: ids are decimal strings, one more than the largest so far. */
export function nextId(items: readonly { readonly id: string }[]): string {
  let largest = 0;
  for (const item of items) {
    const value = Number.parseInt(item.id, 10);
    if (Number.isSafeInteger(value) && value > largest) largest = value;
  }
  return String(largest + 1);
}
