import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file every copy of the example policies holds. */
const MARKER = 'example_policy.yaml';

/**
 * The directory holding the example policies (`example_policy.yaml`, `human_in_loop.yaml`,
 * `multi_tenant.yaml`, `read_only.yaml`, `untrusted_web.yaml`, `workspace_files.yaml`): the copy
 * this package ships (`demo-policies/`, made from the repository's `policies/` when the package is
 * built), else the repository's `policies/` (an unbuilt checkout). Other tools (`ape attack`) read
 * them from here, so the published packages hold one copy. Looked up when called, never at import.
 */
export function shippedPoliciesDirectory(): string {
  // One level below the package root both as source (src/) and as the bundle (dist/).
  const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const shipped = join(packageRoot, 'demo-policies');
  const repository = join(packageRoot, '..', '..', 'policies');
  return existsSync(join(shipped, MARKER)) || !existsSync(join(repository, MARKER)) ? shipped : repository;
}
