import { type ActionRequest, PROVENANCE_LABELS } from '@ape/core';
import { ACTION, and, type Encoding, EXTRA_ARGUMENT, not, PROVENANCE, TENANT } from './encode.js';
import { sampleAction } from './glob.js';
import type { PolicyModel } from './model.js';
import { smtReal, smtString } from './smt-text.js';

/** Collects the string values a schema names: consts, enums, path roots and URL hosts. */
function collectValues(schema: unknown, into: Set<string>): void {
  if (typeof schema !== 'object' || schema === null) return;
  if (Array.isArray(schema)) {
    for (const item of schema) collectValues(item, into);
    return;
  }
  const node = schema as Readonly<Record<string, unknown>>;
  if (typeof node['const'] === 'string') into.add(node['const']);
  if (Array.isArray(node['enum']))
    for (const item of node['enum']) if (typeof item === 'string') into.add(item);
  const path = node['x-ape-path'] as { roots?: readonly string[]; exclude?: readonly string[] } | undefined;
  for (const root of [...(path?.roots ?? []), ...(path?.exclude ?? [])]) {
    into.add(root);
    into.add(`${root.replace(/\/$/, '')}/notes.txt`);
  }
  const url = node['x-ape-url'] as { schemes?: readonly string[]; hosts?: readonly string[] } | undefined;
  for (const host of url?.hosts ?? [])
    into.add(`${url?.schemes?.[0] ?? 'https'}://${host.replace(/^\*\./, 'www.')}/`);
  for (const value of Object.values(node)) collectValues(value, into);
}

/**
 * @internal Concrete requests spread over the policy: every known action (and one unknown), every
 * label, every scope, and argument objects built from the values the rules mention. Used to show
 * rules live without the solver and to cross-check the encoding against the compiled evaluator.
 */
export function sampleRequests(model: PolicyModel, baseTenant: string): ActionRequest[] {
  const names = new Set<string>();
  const values = new Set<string>(['/etc/passwd', 'x']);
  for (const rule of model.rules) {
    const args = rule.args as { properties?: object; required?: readonly string[] } | null;
    if (args === null || typeof args !== 'object') continue;
    for (const name of Object.keys(args.properties ?? {})) names.add(name);
    for (const name of args.required ?? []) names.add(name);
    collectValues(args, values);
  }
  const argumentObjects: Record<string, unknown>[] = [{}];
  for (const value of [...values].sort()) {
    const args: Record<string, unknown> = {};
    for (const name of names) args[name] = value;
    argumentObjects.push(args);
  }
  const actions = [
    ...model.ACTIONS,
    ...model.rules.flatMap((rule) => rule.actions.map(sampleAction)),
    model.OTHER,
  ];
  const tenants = [baseTenant, ...model.tenants.map((tenant) => tenant.id)];
  const requests: ActionRequest[] = [];
  for (const action of [...new Set(actions)]) {
    for (const tenant of tenants) {
      for (const provenance of PROVENANCE_LABELS) {
        for (const args of argumentObjects) requests.push({ tenant, action, args, provenance });
      }
    }
  }
  return requests;
}

/** @internal An SMT constraint fixing every request variable to `request` (no session context). */
export function fixRequest(encoding: Encoding, request: ActionRequest): string {
  const parts = [
    `(= ${ACTION} ${smtString(request.action)})`,
    `(= ${TENANT} ${smtString(request.tenant)})`,
    `(= ${PROVENANCE} ${request.provenance})`,
    encoding.noSession,
  ];
  const known = new Set(encoding.arguments.map((variables) => variables.name));
  parts.push(
    Object.keys(request.args).some((name) => !known.has(name)) ? EXTRA_ARGUMENT : not(EXTRA_ARGUMENT),
  );
  for (const variables of encoding.arguments) {
    if (!Object.hasOwn(request.args, variables.name)) {
      parts.push(not(variables.present));
      continue;
    }
    const value = request.args[variables.name];
    parts.push(variables.present);
    if (typeof value === 'string')
      parts.push(`(= ${variables.kind} KString)`, `(= ${variables.string} ${smtString(value)})`);
    else if (typeof value === 'number')
      parts.push(`(= ${variables.kind} KNumber)`, `(= ${variables.number} ${smtReal(value)})`);
    else if (typeof value === 'boolean')
      parts.push(`(= ${variables.kind} KBool)`, `(= ${variables.boolean} ${String(value)})`);
    else if (value === null) parts.push(`(= ${variables.kind} KNull)`);
    else parts.push(`(= ${variables.kind} ${Array.isArray(value) ? 'KArray' : 'KObject'})`);
  }
  return and(...parts);
}
