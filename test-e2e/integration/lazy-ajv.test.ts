import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
/** A package's built file (never the TypeScript sources): what an installed copy runs. */
const dist = (name: string, file: string) => join(root, 'packages', name, 'dist', file);

/**
 * Runs `script` in a fresh Node process (`module` picks CommonJS or ES modules) and returns what it
 * printed as JSON. The script reports whether ajv's schema compiler (`ajv/dist/core.js`) is loaded
 * with `compilerLoaded()`.
 */
function run(module: 'cjs' | 'esm', script: string): Record<string, unknown> {
  const prelude =
    module === 'cjs'
      ? 'const compilerLoaded = () => Object.keys(require.cache).some((file) => file.endsWith("/ajv/dist/core.js"));'
      : 'import { createRequire } from "node:module"; const compilerLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((file) => file.endsWith("/ajv/dist/core.js"));';
  const child = spawnSync(
    process.execPath,
    [...(module === 'esm' ? ['--input-type=module'] : []), '-e', `${prelude}\n${script}`],
    { cwd: root, encoding: 'utf8' },
  );
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout) as Record<string, unknown>;
}

const POLICY_WITHOUT_SCHEMAS = '{ version: 1, name: "plain", allowed_actions: ["read_file"] }';
const POLICY_WITH_SCHEMAS =
  '{ version: 1, name: "args", allowed_actions: ["send"], rules: [{ id: "one", actions: ["send"], effect: "deny", when: { args: { type: "object", properties: { to: { const: "x" } } } } }] }';

describe('ajv is loaded only when a schema is compiled at run time (start-up cost)', () => {
  for (const module of ['cjs', 'esm'] as const) {
    const load =
      module === 'cjs'
        ? (name: string, file: string) => `require(${JSON.stringify(dist(name, file))})`
        : (name: string, file: string) => `(await import(${JSON.stringify(dist(name, file))}))`;
    const ext = module === 'cjs' ? 'index.cjs' : 'index.js';

    it(`${module}: importing @ape/core and @ape/policy and compiling a policy without argument schemas loads no compiler; a schema loads it`, () => {
      const report = run(
        module,
        `const core = ${load('core', ext)};
         const policy = ${load('policy', ext)};
         const afterImport = compilerLoaded();
         const plain = policy.compilePolicy(${POLICY_WITHOUT_SCHEMAS});
         const afterPlainPolicy = compilerLoaded();
         const withArgs = policy.compilePolicy(${POLICY_WITH_SCHEMAS});
         const decision = withArgs.evaluate({ tenant: "t", action: "send", args: { to: "x" }, provenance: "USER_TRUSTED" }).decision;
         console.log(JSON.stringify({ afterImport, afterPlainPolicy, afterSchema: compilerLoaded(), decision,
           plain: plain.evaluate({ tenant: "t", action: "read_file", args: {}, provenance: "USER_TRUSTED" }).decision }));`,
      );
      expect(report).toEqual({
        afterImport: false,
        afterPlainPolicy: false,
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
