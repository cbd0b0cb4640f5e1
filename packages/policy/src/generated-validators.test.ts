import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type GeneratedValidator,
  validate_x_ape_path,
  validate_x_ape_provenance,
  validate_x_ape_url,
  validateDraft2020Schema,
} from './generated/argument-schema-meta.js';
import { validatePolicyDocument } from './generated/policy-document.js';
import { validatePolicyTestDocument } from './generated/policy-test-document.js';
import keywordOptionSchemas from './keyword-option-schemas.json';
import { policyTestSchema } from './policy-tests.js';
import { policySchema } from './schema.js';

const GENERATOR = fileURLToPath(new URL('../scripts/generate-validators.mjs', import.meta.url));

/** The run-time instances the generated code replaces, with the same options. */
const documentAjv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
const runtimeDocument = documentAjv.compile(policySchema);
const runtimeTestDocument = new Ajv2020({ allErrors: true, strict: true, verbose: true }).compile(
  policyTestSchema,
);
const metaAjv = new Ajv2020({ allErrors: true, verbose: true, strict: false, validateSchema: false });

/** Everything a caller reads from an error, the verbose parts included. */
function project(errors: readonly ErrorObject[] | null | undefined): unknown[] {
  return (errors ?? []).map((error) => ({
    instancePath: error.instancePath,
    schemaPath: error.schemaPath,
    keyword: error.keyword,
    params: error.params,
    message: error.message,
    data: error.data,
    schema: error.schema,
    parentSchema: error.parentSchema,
  }));
}

function sameAs(generated: GeneratedValidator, runtime: (data: unknown) => boolean, errors: () => unknown) {
  return (data: unknown): void => {
    const valid = generated(data);
    const runtimeValid = runtime(data);
    expect(valid).toBe(runtimeValid);
    if (!valid) expect(project(generated.errors)).toEqual(project(errors() as ErrorObject[]));
  };
}

const value = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom('allow', 'deny', 'escalate', 'read_file', 'fs.*', 'bad id!', '30s', '0s', 1, -1, 1.5),
);

/** Documents near the policy shape: known and unknown keys, rules and limits with random values. */
const policyLike = fc.record(
  {
    version: fc.oneof(fc.constant(1), value),
    name: value,
    default: fc.oneof(fc.constant('deny'), value),
    allowed_actions: fc.oneof(fc.array(value, { maxLength: 3 }), value),
    rules: fc.array(
      fc.record(
        {
          id: value,
          actions: fc.oneof(fc.array(value, { maxLength: 3 }), value),
          effect: value,
          when: fc.oneof(fc.record({ args: value, provenance: value }, { requiredKeys: [] }), value),
          reason: value,
          efect: value,
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
    limits: fc.array(fc.record({ actions: value, max_calls: value, window: value }, { requiredKeys: [] }), {
      maxLength: 2,
    }),
    unknown_key: value,
  },
  { requiredKeys: [] },
);

/** Argument schemas with known keywords holding values that are often wrong. */
const schemaLike: fc.Arbitrary<unknown> = fc.letrec<{ schema: unknown }>((tie) => ({
  schema: fc.oneof(
    { depthSize: 'small' },
    fc.boolean(),
    fc.dictionary(
      fc.constantFrom(
        'type',
        'required',
        'minimum',
        'maxLength',
        'pattern',
        'enum',
        'const',
        '$ref',
        '$anchor',
        '$defs',
        'format',
        'uniqueItems',
        'dependentRequired',
      ),
      fc.oneof(value, fc.constantFrom('string', 'object', ['string', 'nul'], [], ['a', 'a'])),
      { maxKeys: 4 },
    ),
    fc.record(
      { properties: fc.dictionary(fc.string({ maxLength: 3 }), tie('schema'), { maxKeys: 2 }) },
      { requiredKeys: [] },
    ),
    fc.record(
      { anyOf: fc.array(tie('schema'), { maxLength: 2 }), items: tie('schema') },
      { requiredKeys: [] },
    ),
  ),
})).schema;

describe('generated validators', () => {
  it('are exactly what the generator writes from the schemas (regenerating changes no byte)', () => {
    const result = spawnSync(process.execPath, [GENERATOR, '--check'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('report on a policy document exactly the errors the run-time compiled policy schema reports', () => {
    fc.assert(
      fc.property(
        policyLike,
        sameAs(validatePolicyDocument, runtimeDocument, () => runtimeDocument.errors),
      ),
      { numRuns: 300 },
    );
  });

  it('report on a policy test file exactly the errors the run-time compiled test file schema reports', () => {
    const testLike = fc.record(
      {
        policy: value,
        version: value,
        cases: fc.oneof(
          fc.array(
            fc.record(
              {
                name: value,
                request: fc.oneof(
                  fc.record(
                    { action: value, args: value, provenance: value, arg_provenance: value, usage: value },
                    { requiredKeys: [] },
                  ),
                  value,
                ),
                expect: fc.oneof(fc.record({ decision: value, rules: value }, { requiredKeys: [] }), value),
                extra: value,
              },
              { requiredKeys: [] },
            ),
            { maxLength: 3 },
          ),
          value,
        ),
        unknown_key: value,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        testLike,
        sameAs(validatePolicyTestDocument, runtimeTestDocument, () => runtimeTestDocument.errors),
      ),
      { numRuns: 300 },
    );
  });

  it('report on an argument schema exactly the errors ajv’s validateSchema reports (draft 2020-12)', () => {
    fc.assert(
      fc.property(
        schemaLike,
        sameAs(
          validateDraft2020Schema,
          (schema) => metaAjv.validateSchema(schema as object) === true,
          () => metaAjv.errors,
        ),
      ),
      { numRuns: 300 },
    );
  });

  it('report on x-ape-* options exactly the errors of the options schemas compiled at run time', () => {
    const cases: [GeneratedValidator, object, fc.Arbitrary<unknown>][] = [
      [
        validate_x_ape_path,
        keywordOptionSchemas['x-ape-path'],
        fc.record(
          {
            roots: fc.oneof(fc.array(value), fc.constant(['/w'])),
            relativeTo: value,
            exclude: value,
            root: value,
          },
          { requiredKeys: [] },
        ),
      ],
      [
        validate_x_ape_url,
        keywordOptionSchemas['x-ape-url'],
        fc.record(
          {
            schemes: value,
            hosts: fc.oneof(fc.array(value), fc.constant(['*.a.b'])),
            ports: value,
            host: value,
          },
          { requiredKeys: [] },
        ),
      ],
      [
        validate_x_ape_provenance,
        keywordOptionSchemas['x-ape-provenance'],
        fc.oneof(
          value,
          fc.array(fc.constantFrom('USER_TRUSTED', 'SYSTEM_TRUSTED', 'TRUSTED'), { maxLength: 3 }),
        ),
      ],
    ];
    for (const [generated, schema, arbitrary] of cases) {
      const runtime = metaAjv.compile(schema);
      fc.assert(
        fc.property(
          arbitrary,
          sameAs(generated, runtime, () => runtime.errors),
        ),
        { numRuns: 200 },
      );
    }
  });
});
