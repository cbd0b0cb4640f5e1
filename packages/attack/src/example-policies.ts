import { join } from 'node:path';
import { type CompiledPolicy, loadPolicy } from '@ape/policy';

/**
 * The name of an example policy (a file of the repository's `policies/`, without `.yaml`): the
 * policies the scenarios target. `@ape/reference-agent` ships them (`shippedPoliciesDirectory()`).
 */
export type ExamplePolicyName =
  | 'example_policy'
  | 'human_in_loop'
  | 'multi_tenant'
  | 'read_only'
  | 'untrusted_web'
  | 'workspace_files';

/** Every example policy name, in file order. */
export const EXAMPLE_POLICY_NAMES: readonly ExamplePolicyName[] = Object.freeze([
  'example_policy',
  'human_in_loop',
  'multi_tenant',
  'read_only',
  'untrusted_web',
  'workspace_files',
]);

/**
 * @internal Loads every example policy from `directory` (`<name>.yaml` each), through the policy
 * loader, so a policy's digest is its file's. Read when a run starts, never when the module loads.
 *
 * @throws PolicyError (`POLICY_INVALID`) naming the file when one is missing or invalid.
 */
export function loadExamplePolicies(directory: string): Readonly<Record<ExamplePolicyName, CompiledPolicy>> {
  return Object.freeze(
    Object.fromEntries(
      EXAMPLE_POLICY_NAMES.map((name) => [name, loadPolicy(join(directory, `${name}.yaml`))]),
    ) as Record<ExamplePolicyName, CompiledPolicy>,
  );
}
