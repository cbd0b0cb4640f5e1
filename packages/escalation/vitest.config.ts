import { baseVitestConfig } from '../../vitest.base';

export default baseVitestConfig();
