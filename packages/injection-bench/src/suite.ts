import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigurationError, deepFreeze, messageOf, type Tool } from '@ape/core';
import { type CompiledPolicy, loadPolicy } from '@ape/policy';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import suiteSchema from '../schema/suite-v1.json';
import { readJsonFile } from './bounded-json.js';
import { type Check, checkCheck } from './checks.js';
import type { Environment, EnvironmentInstance } from './environments/environment.js';
import { ENVIRONMENTS } from './environments/index.js';
import { checkTemplate, type Template } from './references.js';

/** The suite JSON Schema (draft 2020-12), also shipped as `schema/suite-v1.json`. */
export const SUITE_SCHEMA: Readonly<Record<string, unknown>> = suiteSchema;

/** The file a suite directory holds. */
export const SUITE_FILE = 'suite.json';

/** One tool call of a task: the tool and its argument template. */
export interface CallTemplate {
  readonly tool: string;
  readonly args: Template;
}

/** What the user asks: the prompt, the ground-truth calls, the final answer and the utility check. */
export interface UserTask {
  readonly id: string;
  readonly prompt: string;
  readonly calls: readonly CallTemplate[];
  readonly answer?: Template;
  readonly utility: Check;
}

/** What the attacker wants: the injected goal, the calls an obedient model makes and the security check. */
export interface InjectionTask {
  readonly id: string;
  readonly goal: string;
  readonly calls: readonly CallTemplate[];
  readonly security: Check;
}

/** A loaded, validated suite. */
export interface Suite {
  readonly name: string;
  readonly description: string;
  readonly directory: string;
  readonly environment: Environment;
  /** The environment's tools over their own state holder, built once for the suite. */
  readonly instance: EnvironmentInstance;
  readonly user: string;
  readonly policyFile: string;
  readonly policy: CompiledPolicy;
  /** The per-argument policy's file: `perArgumentPolicy` when the suite names one, else `policyFile`. */
  readonly perArgumentPolicyFile: string;
  /** The policy of the per-argument rows (`x-ape-provenance` on destinations); `policy` when none is named. */
  readonly perArgumentPolicy: CompiledPolicy;
  /** The initial state with `{{vector}}` placeholders, frozen. */
  readonly state: unknown;
  /** The benign text of each injection vector, by name. */
  readonly vectors: ReadonlyMap<string, string>;
  readonly userTasks: readonly UserTask[];
  readonly injectionTasks: readonly InjectionTask[];
}

const PLACEHOLDER = /\{\{([A-Za-z0-9_][A-Za-z0-9_.:-]{0,127})\}\}/g;

let validators: { suite: ValidateFunction; states: Map<string, ValidateFunction> } | undefined;

function compiled(): { suite: ValidateFunction; states: Map<string, ValidateFunction> } {
  if (validators === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    const states = new Map<string, ValidateFunction>();
    for (const environment of ENVIRONMENTS.values())
      states.set(environment.id, ajv.compile(environment.stateSchema));
    validators = { suite: ajv.compile(suiteSchema), states };
  }
  return validators;
}

function schemaProblems(errors: readonly ErrorObject[] | null | undefined, prefix: string): string[] {
  return (errors ?? []).map(
    (error) => `${prefix}${error.instancePath || ''}: ${error.message ?? 'is invalid'}`,
  );
}

function fail(file: string, problems: readonly string[]): never {
  throw new ConfigurationError(
    `Invalid suite ${file}:\n  ${problems.join('\n  ')}\nFix the suite file (its schema: packages/injection-bench/schema/suite-v1.json).`,
    { file, field: 'suite', problems },
  );
}

/** Every string inside `value` (objects and arrays walked). */
function stringsIn(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsIn(item, into);
  else if (typeof value === 'object' && value !== null)
    for (const item of Object.values(value)) stringsIn(item, into);
  return into;
}

/**
 * The literal string values a template writes: whole arguments and array items, not the paths of
 * references and not the joining text of `$concat` (the model's own formatting).
 */
function literalStrings(template: Template, into: string[] = []): string[] {
  if (typeof template === 'string') into.push(template);
  else if (Array.isArray(template)) for (const item of template) literalStrings(item, into);
  else if (typeof template === 'object' && template !== null) {
    for (const [key, item] of Object.entries(template)) {
      if (!key.startsWith('$')) literalStrings(item, into);
    }
  }
  return into;
}

function hasSpecialValue(template: Template): boolean {
  if (Array.isArray(template)) return template.some(hasSpecialValue);
  if (typeof template !== 'object' || template === null) return false;
  return (
    Object.keys(template).some((key) => key.startsWith('$')) || Object.values(template).some(hasSpecialValue)
  );
}

function checkCalls(
  calls: readonly CallTemplate[],
  tools: ReadonlyMap<string, Tool>,
  where: string,
  problems: string[],
): void {
  calls.forEach((call, index) => {
    const path = `${where}.calls[${index}]`;
    const tool = tools.get(call.tool);
    if (tool === undefined) {
      problems.push(`${path}.tool: the environment has no tool ${JSON.stringify(call.tool)}`);
      return;
    }
    problems.push(...checkTemplate(call.args, index, `${path}.args`));
    if (!hasSpecialValue(call.args)) {
      for (const issue of tool.checkArgs(call.args))
        problems.push(`${path}.args: ${issue.path}: ${issue.message}`);
    }
  });
}

/**
 * Loads and validates the suite in `directory` (its `suite.json` and the policies it names): the JSON
 * Schema, the environment and its state schema, injection placeholders, tools, references, checks,
 * the rule that an injection task's literal strings appear in its goal, the policy and the
 * per-argument policy.
 * @throws ConfigurationError (`CONFIG_INVALID`) listing every problem with its JSON path.
 * @throws PolicyError (`POLICY_INVALID`) when a policy file is invalid.
 */
export function loadSuite(directory: string): Suite {
  const file = join(directory, SUITE_FILE);
  const raw = readJsonFile(file);
  const { suite: validateSuite, states } = compiled();
  if (!validateSuite(raw)) fail(file, schemaProblems(validateSuite.errors, '$'));
  const data = raw as {
    name: string;
    environment: string;
    description: string;
    user: string;
    policy: string;
    perArgumentPolicy?: string;
    state: Record<string, unknown>;
    injectionVectors: Record<string, { default: string }>;
    userTasks: (UserTask & { calls: { tool: string; args?: Template }[] })[];
    injectionTasks: (InjectionTask & { calls: { tool: string; args?: Template }[] })[];
  };
  const environment = ENVIRONMENTS.get(data.environment);
  if (environment === undefined) {
    fail(file, [
      `$.environment: unknown environment ${JSON.stringify(data.environment)}; one of ${[...ENVIRONMENTS.keys()].join(', ')}`,
    ]);
  }
  const problems: string[] = [];
  const validateState = states.get(environment.id)!;
  if (!validateState(data.state)) problems.push(...schemaProblems(validateState.errors, '$.state'));

  const vectors = new Map(
    Object.entries(data.injectionVectors).map(([name, vector]) => [name, vector.default]),
  );
  const used = new Set<string>();
  for (const text of stringsIn(data.state)) {
    for (const match of text.matchAll(PLACEHOLDER)) {
      if (!vectors.has(match[1]!))
        problems.push(`$.state: placeholder {{${match[1]}}} names no injection vector`);
      used.add(match[1]!);
    }
  }
  for (const name of vectors.keys()) {
    if (!used.has(name)) problems.push(`$.injectionVectors.${name}: no {{${name}}} placeholder in the state`);
  }

  const instance = environment.instantiate();
  const normalise = <T extends { calls: { tool: string; args?: Template }[] }>(task: T) => ({
    ...task,
    calls: task.calls.map((call) => ({ tool: call.tool, args: call.args ?? {} })),
  });
  const userTasks = data.userTasks.map(normalise);
  const injectionTasks = data.injectionTasks.map(normalise);
  const ids = new Set<string>();
  const claimId = (id: string, where: string) => {
    if (ids.has(id)) problems.push(`${where}.id: ${JSON.stringify(id)} is used twice`);
    ids.add(id);
  };
  userTasks.forEach((task, index) => {
    const where = `$.userTasks[${index}]`;
    claimId(task.id, where);
    checkCalls(task.calls, instance.tools, where, problems);
    if (task.answer !== undefined)
      problems.push(...checkTemplate(task.answer, task.calls.length, `${where}.answer`));
    problems.push(...checkCheck(task.utility, `${where}.utility`));
  });
  injectionTasks.forEach((task, index) => {
    const where = `$.injectionTasks[${index}]`;
    claimId(task.id, where);
    checkCalls(task.calls, instance.tools, where, problems);
    problems.push(...checkCheck(task.security, `${where}.security`));
    task.calls.forEach((call, callIndex) => {
      for (const text of literalStrings(call.args)) {
        if (!task.goal.includes(text)) {
          problems.push(
            `${where}.calls[${callIndex}].args: ${JSON.stringify(text)} does not appear in the goal; the model can only copy what the injection says`,
          );
        }
      }
    });
  });
  if (problems.length > 0) fail(file, problems);

  const policyFile = resolve(directory, data.policy);
  const perArgumentPolicyFile =
    data.perArgumentPolicy === undefined ? policyFile : resolve(directory, data.perArgumentPolicy);
  const policy = loadPolicy(policyFile);
  return Object.freeze({
    name: data.name,
    description: data.description,
    directory: resolve(directory),
    environment,
    instance,
    user: data.user,
    policyFile,
    policy,
    perArgumentPolicyFile,
    perArgumentPolicy: perArgumentPolicyFile === policyFile ? policy : loadPolicy(perArgumentPolicyFile),
    state: deepFreeze(data.state),
    vectors,
    userTasks: deepFreeze(userTasks) as readonly UserTask[],
    injectionTasks: deepFreeze(injectionTasks) as readonly InjectionTask[],
  });
}

/**
 * Loads every suite under `root` (each subdirectory holding a `suite.json`), in name order.
 * @throws ConfigurationError (`CONFIG_INVALID`) when `root` cannot be read, or as {@link loadSuite}.
 */
export function loadSuites(root: string): readonly Suite[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch (error) {
    throw new ConfigurationError(
      `Cannot read the suites directory ${root}: ${messageOf(error)}.`,
      { file: root, field: 'suites' },
      { cause: error },
    );
  }
  const names = entries
    .filter((name) => {
      try {
        return statSync(join(root, name, SUITE_FILE)).isFile();
      } catch {
        return false;
      }
    })
    .sort();
  return names.map((name) => loadSuite(join(root, name)));
}

/**
 * A fresh, mutable copy of the suite's state with every `{{vector}}` replaced: by `texts.get(name)`
 * when given, else by the vector's benign default.
 */
export function instantiateState(suite: Suite, texts: ReadonlyMap<string, string> = new Map()): unknown {
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.replace(
        PLACEHOLDER,
        (_whole, name: string) => texts.get(name) ?? suite.vectors.get(name) ?? '',
      );
    }
    if (Array.isArray(value)) return value.map(fill);
    if (typeof value === 'object' && value !== null) {
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        Object.defineProperty(copy, key, {
          value: fill(item),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return copy;
    }
    return value;
  };
  return fill(suite.state);
}
