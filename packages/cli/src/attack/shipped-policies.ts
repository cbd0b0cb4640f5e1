import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shippedPoliciesDirectory } from '@ape/reference-agent';

/**
 * @internal The example policies (`policies/*.yaml`), read from the copy @ape/reference-agent ships,
 * so that `ape attack` runs from an installed package without the repository and the published
 * packages hold one copy. `shipped-policies.test.ts` checks every text against `policies/`.
 */

/** @internal The name of a shipped policy: its file name without `.yaml`. */
export type ShippedPolicyName =
  | 'example_policy'
  | 'human_in_loop'
  | 'multi_tenant'
  | 'read_only'
  | 'untrusted_web'
  | 'workspace_files';

/** @internal Every shipped policy name, in file order. */
export const SHIPPED_POLICY_NAMES: readonly ShippedPolicyName[] = Object.freeze([
  'example_policy',
  'human_in_loop',
  'multi_tenant',
  'read_only',
  'untrusted_web',
  'workspace_files',
]);

/** @internal The text of each shipped policy, byte for byte its file; read once, when the battery loads. */
export const SHIPPED_POLICY_TEXTS: Readonly<Record<ShippedPolicyName, string>> = Object.freeze(
  Object.fromEntries(
    SHIPPED_POLICY_NAMES.map((name) => [
      name,
      readFileSync(join(shippedPoliciesDirectory(), `${name}.yaml`), 'utf8'),
    ]),
  ) as Record<ShippedPolicyName, string>,
);
