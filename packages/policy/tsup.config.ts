import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// `shims` gives the CommonJS build an `import.meta.url`, for the lazy loads of ajv and re2js (src/lazy-modules.ts).
export default defineConfig({ ...baseConfig(), shims: true });
