import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
/** A package's built file (never the TypeScript sources): what an installed copy runs. */
const dist = (name: string, file: string) => join(root, 'packages', name, 'dist', file);

/**
 * Runs `script` in a fresh Node process (`module` picks CommonJS or ES modules) and returns what it
 * printed as JSON. The script reports whether ajv's schema compiler (`ajv/dist/core.js`) is loaded
 * with `compilerLoaded()`, and whether the RE2 engine (`re2js`) is with `re2Loaded()`.
 */
function run(module: 'cjs' | 'esm', script: string): Record<string, unknown> {
  const prelude =
    module === 'cjs'
      ? 'const cache = require.cache;'
      : 'import { createRequire } from "node:module"; const cache = createRequire(import.meta.url).cache;';
  const probes =
    'const loaded = (tail) => Object.keys(cache).some((file) => file.includes(tail));' +
    'const compilerLoaded = () => loaded("/ajv/dist/core.js");' +
    'const re2Loaded = () => loaded("/re2js/");';
  const child = spawnSync(
    process.execPath,
    [...(module === 'esm' ? ['--input-type=module'] : []), '-e', `${prelude}\n${probes}\n${script}`],
    { cwd: root, encoding: 'utf8' },
  );
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout) as Record<string, unknown>;
}

const POLICY_WITHOUT_SCHEMAS = '{ version: 1, name: "plain", allowed_actions: ["read_file"] }';
const POLICY_WITH_GLOB =
  '{ version: 1, name: "glob", allowed_actions: ["read_file"], rules: [{ id: "reads", actions: ["read_*", "fs.**", "*.write"], effect: "deny" }] }';
const POLICY_WITH_TWO_WILDCARDS =
  '{ version: 1, name: "globs", allowed_actions: ["read_file"], rules: [{ id: "reads", actions: ["re*_f*"], effect: "deny" }] }';
const POLICY_WITH_SCHEMAS =
  '{ version: 1, name: "args", allowed_actions: ["send"], rules: [{ id: "one", actions: ["send"], effect: "deny", when: { args: { type: "object", properties: { to: { const: "x" } } } } }] }';

describe('ajv and re2js are loaded only when a schema or a pattern needs them (start-up cost)', () => {
  for (const module of ['cjs', 'esm'] as const) {
    const load =
      module === 'cjs'
        ? (name: string, file: string) => `require(${JSON.stringify(dist(name, file))})`
        : (name: string, file: string) => `(await import(${JSON.stringify(dist(name, file))}))`;
    const ext = module === 'cjs' ? 'index.cjs' : 'index.js';

    it(`${module}: importing @ape/core and @ape/policy and compiling a plain policy or one-wildcard globs loads neither; a glob with two wildcards loads RE2, a schema ajv`, () => {
      const report = run(
        module,
        `const core = ${load('core', ext)};
         const policy = ${load('policy', ext)};
         const afterImport = compilerLoaded() || re2Loaded();
         const plain = policy.compilePolicy(${POLICY_WITHOUT_SCHEMAS});
         const afterPlainPolicy = compilerLoaded() || re2Loaded();
         const globbed = policy.compilePolicy(${POLICY_WITH_GLOB});
         const afterOneWildcard = compilerLoaded() || re2Loaded();
         const globDecision = globbed.evaluate({ tenant: "t", action: "read_file", args: {}, provenance: "USER_TRUSTED" }).decision;
         const twoWildcards = policy.compilePolicy(${POLICY_WITH_TWO_WILDCARDS});
         const re2AfterGlob = re2Loaded() && !compilerLoaded();
         const twoWildcardDecision = twoWildcards.evaluate({ tenant: "t", action: "read_file", args: {}, provenance: "USER_TRUSTED" }).decision;
         const withArgs = policy.compilePolicy(${POLICY_WITH_SCHEMAS});
         const decision = withArgs.evaluate({ tenant: "t", action: "send", args: { to: "x" }, provenance: "USER_TRUSTED" }).decision;
         console.log(JSON.stringify({ afterImport, afterPlainPolicy, afterOneWildcard, globDecision, re2AfterGlob, twoWildcardDecision, afterSchema: compilerLoaded(), decision,
           plain: plain.evaluate({ tenant: "t", action: "read_file", args: {}, provenance: "USER_TRUSTED" }).decision }));`,
      );
      expect(report).toEqual({
        afterImport: false,
        afterPlainPolicy: false,
        afterOneWildcard: false,
        globDecision: 'DENY',
        re2AfterGlob: true,
        twoWildcardDecision: 'DENY',
        afterSchema: true,
        decision: 'DENY',
        plain: 'ALLOW',
      });
    });

    it(`${module}: a tool with an argument schema and the intent validators load and use it`, () => {
      const report = run(
        module,
        `const core = ${load('core', ext)};
         const tool = core.defineTool({ id: "t", outputLabel: "SYSTEM_TRUSTED", argsSchema: { type: "object", properties: { a: { type: "string" } }, required: ["a"] }, run: () => null });
         const afterTool = compilerLoaded();
         const intent = core.validateIntent({ allowed_actions: "not a list" });
         console.log(JSON.stringify({ afterTool, tool: typeof tool, intentValid: intent.ok }));`,
      );
      expect(report).toEqual({ afterTool: true, tool: 'object', intentValid: false });
    });
  }
});
