import type { ActionRequest, IntentScope, PolicyDecision, ProvenanceLabel } from '@ape/core';
import type { CompiledPolicy } from '@ape/policy';
import type { Command } from 'commander';
import { CommandFailure } from '../command-failure.js';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { labelArguments, parseArgProvenance } from '../arg-provenance.js';
import { isJsonObject, parseJson, parseJsonObject, readInputFile } from '../json-input.js';
import { loadPolicyArgument } from '../policy-input.js';
import type { Style } from '../style.js';

/** @internal Options of `ape simulate`. */
export interface SimulateOptions extends CommonOptions {
  readonly args: string;
  readonly provenance: string;
  readonly tenant: string;
  readonly intent?: string;
  readonly previousAction?: string;
  readonly usage: readonly string[];
  readonly argProvenance: readonly string[];
  readonly batch?: string;
}

/** @internal The `--json` output of `ape simulate`: exactly these four keys. */
export interface SimulateJson {
  readonly decision: PolicyDecision['decision'];
  readonly rules: readonly string[];
  readonly reason: string;
  readonly policy: string;
}

/** @internal The session id simulated requests carry when `--previous-action` or `--usage` is given. */
export const SIMULATED_SESSION_ID = 'ape-simulate';

/** @internal The scope given to an `--intent` file that has none. */
export const SIMULATED_INTENT_SCOPE = 'ape simulate';

const BATCH_KEYS: ReadonlySet<string> = new Set(['action', 'args', 'provenance', 'argProvenance', 'tenant']);

/** The sibling modules `ape simulate` uses, loaded when it runs rather than when `ape` starts. */
interface SimulateModules {
  readonly core: typeof import('@ape/core');
  readonly provenance: typeof import('@ape/provenance');
}

/** @internal Every flag that shapes a request, already checked. */
interface RequestDefaults {
  readonly args: Readonly<Record<string, unknown>>;
  readonly provenance: ProvenanceLabel;
  readonly argProvenance: readonly { readonly pointer: string; readonly label: ProvenanceLabel }[];
  readonly tenant: string;
  readonly intent?: IntentScope;
  readonly previousAction?: string;
  readonly usage?: Readonly<Record<string, number>>;
}

/** @internal `ape simulate <policy> <action>`: the decision for one call, or many with `--batch`. */
export function registerSimulateCommand(program: Command, context: CommandContext): void {
  withCommonOptions(
    program
      .command('simulate')
      .description('print the decision (ALLOW, DENY or ESCALATE) a policy makes for a call')
      .argument('<policy>', 'the policy file')
      .argument('[action]', 'the action id of the call (omit with --batch)')
      .option('--args <json>', 'the call arguments, a JSON object', '{}')
      .option('--provenance <label>', 'SYSTEM_TRUSTED, USER_TRUSTED or EXTERNAL_UNTRUSTED', 'USER_TRUSTED')
      .option(
        '--arg-provenance <pointer=label>',
        'the label of one argument by JSON pointer, such as /to=USER_TRUSTED (repeatable); other arguments keep --provenance',
        collectUsage,
        [],
      )
      .option('--tenant <id>', 'the tenant making the call', 'default')
      .option('--intent <file>', 'a JSON intent the decision is narrowed to')
      .option('--previous-action <action>', 'the action of the previous step (for tool_transitions)')
      .option(
        '--usage <id=count>',
        'uses already counted against a limit (repeatable); limits are then judged by these counts',
        collectUsage,
        [],
      )
      .option('--batch <file>', 'a JSON Lines file of requests, one result a line'),
  ).action(async (policyFile: string, action: string | undefined, options: SimulateOptions) => {
    if (options.batch === undefined && action === undefined) {
      throw new CommandFailure('missing the action to simulate (or give --batch <file.jsonl>)');
    }
    if (options.batch !== undefined && action !== undefined) {
      throw new CommandFailure('give either an action or --batch, not both');
    }
    const [core, provenance] = await Promise.all([import('@ape/core'), import('@ape/provenance')]);
    const modules: SimulateModules = { core, provenance };
    const defaults = requestDefaults(context, modules, options);
    if (options.batch !== undefined) {
      const requests = readBatch(context, modules, options.batch, defaults);
      const policy = await loadPolicyArgument(context, policyFile);
      runBatch(context, policy, requests, options);
      return;
    }
    const request = buildRequest(modules, action ?? '', defaults, '--arg-provenance');
    const policy = await loadPolicyArgument(context, policyFile);
    const decision = toJson(policy.simulate(request));
    if (options.json === true) {
      context.printJson(decision);
      return;
    }
    const style = context.style(options);
    context.print(
      colourDecision(decision.decision, style),
      `reason: ${decision.reason}`,
      `rules: ${decision.rules.length === 0 ? '(none: default deny)' : decision.rules.join(', ')}`,
      style.dim(`policy: ${policy.name} ${decision.policy}`),
    );
  });
}

function requestDefaults(
  context: CommandContext,
  modules: SimulateModules,
  options: SimulateOptions,
): RequestDefaults {
  const args = parseJsonObject(options.args, '--args');
  const provenance = label(modules, options.provenance, '--provenance');
  const argProvenance = options.argProvenance.map((entry) => {
    const parsed = parseArgProvenance(entry, '--arg-provenance');
    return {
      pointer: parsed.pointer,
      label: label(modules, parsed.label, `--arg-provenance ${parsed.pointer}`),
    };
  });
  const intent = options.intent === undefined ? undefined : readIntent(context, modules, options.intent);
  return {
    args,
    provenance,
    argProvenance,
    tenant: options.tenant,
    ...(intent === undefined ? {} : { intent }),
    ...(options.previousAction === undefined ? {} : { previousAction: options.previousAction }),
    ...(options.usage.length === 0 ? {} : { usage: parseUsage(options.usage) }),
  };
}

function collectUsage(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

const USAGE_ENTRY = /^([A-Za-z0-9_][A-Za-z0-9_.:[\]-]{0,255})=(0|[1-9][0-9]{0,9})$/;

/** `--usage reads=3 --usage limits[1]=0` → `{ reads: 3, 'limits[1]': 0 }` (a limit id, then uses). */
function parseUsage(entries: readonly string[]): Readonly<Record<string, number>> {
  const usage: Record<string, number> = Object.create(null);
  for (const entry of entries) {
    const match = USAGE_ENTRY.exec(entry);
    if (match === null) {
      throw new CommandFailure(
        `--usage ${JSON.stringify(entry)}: expected <limit id>=<uses>, such as reads=3 or limits[0]=0`,
      );
    }
    const [, id, count] = match;
    if (Object.hasOwn(usage, id!)) throw new CommandFailure(`--usage: the limit ${id} is given twice`);
    usage[id!] = Number(count);
  }
  return Object.freeze(usage);
}

function label(modules: SimulateModules, text: string, where: string): ProvenanceLabel {
  try {
    return modules.provenance.parseLabel(text);
  } catch (error) {
    if (modules.provenance.ProvenanceError.isInstance(error))
      throw new CommandFailure(`${where}: ${error.message}`);
    throw error;
  }
}

function readIntent(context: CommandContext, modules: SimulateModules, given: string): IntentScope {
  const value = parseJson(readInputFile(context.resolvePath(given), given), `intent file ${given}`);
  if (!isJsonObject(value)) throw new CommandFailure(`intent file ${given} must hold a JSON object`);
  const input = value['scope'] === undefined ? { ...value, scope: SIMULATED_INTENT_SCOPE } : value;
  try {
    const intent = modules.core.createIntent(input).value;
    return { allowed_actions: intent.allowed_actions, forbidden_actions: intent.forbidden_actions };
  } catch (error) {
    if (modules.core.IntentError.isInstance(error))
      throw new CommandFailure(`intent file ${given}: ${error.message}`);
    throw error;
  }
}

function buildRequest(
  modules: SimulateModules,
  action: string,
  defaults: RequestDefaults,
  where: string,
): ActionRequest {
  return {
    tenant: defaults.tenant,
    action,
    args: defaults.args,
    ...labelArguments(modules, defaults.args, defaults.provenance, defaults.argProvenance, where),
    ...(defaults.intent === undefined ? {} : { intent: defaults.intent }),
    ...(defaults.previousAction === undefined && defaults.usage === undefined
      ? {}
      : {
          session: {
            id: SIMULATED_SESSION_ID,
            ...(defaults.previousAction === undefined ? {} : { previousAction: defaults.previousAction }),
            ...(defaults.usage === undefined ? {} : { usage: defaults.usage }),
          },
        }),
  };
}

/** @internal Parses every line first, so a malformed line stops the batch before any output. */
function readBatch(
  context: CommandContext,
  modules: SimulateModules,
  given: string,
  defaults: RequestDefaults,
): ActionRequest[] {
  const text = readInputFile(context.resolvePath(given), given);
  const requests: ActionRequest[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `${given}, line ${index + 1}`;
    const value = parseJson(line, `${where}: the request`);
    if (!isJsonObject(value)) throw new CommandFailure(`${where}: a request must be a JSON object`);
    for (const key of Object.keys(value)) {
      if (!BATCH_KEYS.has(key)) {
        throw new CommandFailure(
          `${where}: unknown key "${key}" (allowed: action, args, provenance, argProvenance, tenant)`,
        );
      }
    }
    const { action, args, provenance, argProvenance, tenant } = value;
    if (typeof action !== 'string' || action === '') {
      throw new CommandFailure(`${where}: "action" must be a non-empty string`);
    }
    if (args !== undefined && !isJsonObject(args))
      throw new CommandFailure(`${where}: "args" must be a JSON object`);
    if (tenant !== undefined && typeof tenant !== 'string') {
      throw new CommandFailure(`${where}: "tenant" must be a string`);
    }
    if (argProvenance !== undefined && !isJsonObject(argProvenance)) {
      throw new CommandFailure(`${where}: "argProvenance" must be a JSON object of pointer → label`);
    }
    const perArgument =
      argProvenance === undefined
        ? undefined
        : Object.keys(argProvenance).map((pointer) => ({
            pointer,
            label: label(modules, String(argProvenance[pointer]), `${where}: argProvenance ${pointer}`),
          }));
    requests.push(
      buildRequest(
        modules,
        action,
        {
          ...defaults,
          ...(perArgument === undefined ? {} : { argProvenance: perArgument }),
          ...(args === undefined ? {} : { args }),
          ...(provenance === undefined ? {} : { provenance: label(modules, String(provenance), where) }),
          ...(tenant === undefined ? {} : { tenant }),
        },
        `${where}: argProvenance`,
      ),
    );
  });
  return requests;
}

function runBatch(
  context: CommandContext,
  policy: CompiledPolicy,
  requests: readonly ActionRequest[],
  options: SimulateOptions,
): void {
  const style = context.style(options);
  const lines = requests.map((request) => {
    const decision = toJson(policy.simulate(request));
    if (options.json === true) return JSON.stringify(decision);
    const rules = decision.rules.length === 0 ? '(default deny)' : decision.rules.join(',');
    return `${colourDecision(decision.decision, style)} ${request.action} ${rules}`;
  });
  if (lines.length > 0) context.print(...lines);
}

function toJson(decision: PolicyDecision): SimulateJson {
  return {
    decision: decision.decision,
    rules: [...decision.rules],
    reason: decision.reason,
    policy: decision.policy,
  };
}

/** @internal The decision word, coloured by meaning. */
export function colourDecision(decision: PolicyDecision['decision'], style: Style): string {
  if (decision === 'ALLOW') return style.green(decision);
  if (decision === 'ESCALATE') return style.yellow(decision);
  return style.red(decision);
}
