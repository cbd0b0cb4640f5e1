import schema from '../schema/policy-v1.json';

/** The policy JSON Schema (draft 2020-12), also published as `@ape/policy/schema/policy-v1.json`. */
export const policySchema: Readonly<Record<string, unknown>> = schema;
