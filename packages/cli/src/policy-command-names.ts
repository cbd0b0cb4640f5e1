/**
 * @internal The commands the launcher runs from the bundled program (dist/policy-commands.cjs)
 * when its checks pass: the ones that need only `@ape/core`, `@ape/policy` and `@ape/provenance`.
 * A module of its own with no imports, so that the launcher can route without loading anything.
 * A test pins it to the names policy-commands.ts registers.
 */
export const POLICY_COMMAND_NAMES: readonly string[] = ['validate', 'simulate', 'explain', 'test', 'init'];
