import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// `shims` gives the CommonJS build an `import.meta.url`, which the demo uses to find the policies
// shipped in this package (demo-policies/).
export default defineConfig({ ...baseConfig(), shims: true });
