import { join, resolve } from 'node:path';
import { type CompiledPolicy, loadPolicy } from '@ape/policy';
import { shippedPoliciesDirectory } from '../shipped-policies.js';

/** @internal The policy files the demo's scenarios run under. */
export const DEMO_POLICY_FILES = Object.freeze([
  'example_policy.yaml',
  'human_in_loop.yaml',
  'multi_tenant.yaml',
  'untrusted_web.yaml',
  'workspace_files.yaml',
]);

/** @internal The policies of one demo run, by file name, and where they were read from. */
export interface DemoPolicies {
  readonly directory: string;
  policy(file: string): CompiledPolicy;
}

/**
 * @internal Loads every policy the demo uses from `explicit` (default: the shipped example
 * policies) up front, so a broken file fails before anything runs.
 *
 * @throws PolicyError (`POLICY_INVALID`) naming the file when one is missing or invalid.
 */
export function loadDemoPolicies(explicit: string | undefined): DemoPolicies {
  const directory = explicit === undefined ? shippedPoliciesDirectory() : resolve(explicit);
  const policies = new Map<string, CompiledPolicy>();
  for (const file of DEMO_POLICY_FILES) policies.set(file, loadPolicy(join(directory, file)));
  return {
    directory,
    policy(file) {
      let policy = policies.get(file);
      if (policy === undefined) {
        policy = loadPolicy(join(directory, file));
        policies.set(file, policy);
      }
      return policy;
    },
  };
}
