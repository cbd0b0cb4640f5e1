import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// A private runner, not a library: two ESM scripts (run, profile), no declarations. The peers stay external
// (cedar-wasm loads its .wasm file relative to its own module), and so do the MCP SDK and OpenAI Agents JS.
export default defineConfig({
  ...baseConfig({ run: 'src/run.ts', profile: 'src/profile.ts' }),
  format: ['esm'],
  // Split so that `--charts-from` loads the chart code without the cases and the engines they import.
  splitting: true,
  dts: false,
  external: [
    '@cedar-policy/cedar-wasm',
    'casbin',
    'tinybench',
    '@modelcontextprotocol/sdk',
    '@openai/agents',
    'zod',
  ],
});
