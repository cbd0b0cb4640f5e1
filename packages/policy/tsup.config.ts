import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// `shims` gives the CommonJS build an `import.meta.url`, for the lazy load of ajv (src/ajv-class.ts).
export default defineConfig({ ...baseConfig(), shims: true });
