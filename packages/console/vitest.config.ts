import { baseVitestConfig } from '../../vitest.base.ts';

export default baseVitestConfig();
