import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadPolicy, readPolicyTests, runPolicyTests, validatePolicy } from './index.js';

const directory = fileURLToPath(new URL('../../../policies/', import.meta.url));
// Policies only: their *.test.yaml files are read by readPolicyTests (see the last test).
const files = readdirSync(directory).filter(
  (name) => /\.(ya?ml|json)$/.test(name) && !/\.test\.(ya?ml|json)$/.test(name),
);
const request = (
  action: string,
  args: Record<string, unknown> = {},
  provenance = 'USER_TRUSTED' as const,
) => ({
  tenant: 'default',
  action,
  args,
  provenance,
});

describe('the example policies', () => {
  it('include the six documented files', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'example_policy.yaml',
        'read_only.yaml',
        'workspace_files.yaml',
        'human_in_loop.yaml',
        'untrusted_web.yaml',
        'multi_tenant.yaml',
      ]),
    );
  });

  it.each(files)('%s compiles with no errors and no warnings', (file) => {
    const result = validatePolicy(`${directory}${file}`);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('loads the seed example (three lists only) with version 1 and the file name as name', () => {
    const policy = loadPolicy(`${directory}example_policy.yaml`);
    expect(policy.name).toBe('example_policy');
    expect(policy.evaluate(request('read_file')).decision).toBe('ALLOW');
    expect(policy.evaluate(request('delete_file')).decision).toBe('DENY');
    expect(policy.evaluate(request('send_email')).decision).toBe('ESCALATE');
    expect(policy.evaluate(request('write_file')).decision).toBe('DENY');
  });

  it('workspace_files.yaml refuses a traversal out of /workspace', () => {
    const policy = loadPolicy(`${directory}workspace_files.yaml`);
    expect(policy.evaluate(request('read_file', { path: '/workspace/src/a.ts' })).decision).toBe('ALLOW');
    expect(policy.evaluate(request('read_file', { path: '/workspace/../etc/passwd' })).decision).toBe('DENY');
    expect(policy.evaluate(request('read_file', { path: '/workspace/.secrets/key' })).decision).toBe('DENY');
    expect(
      policy.evaluate(
        request('write_file', { path: '/workspace/a', content: 'x' }, 'EXTERNAL_UNTRUSTED' as never),
      ).decision,
    ).toBe('ESCALATE');
    expect(policy.evaluate(request('delete_file', { path: '/workspace/a' })).decision).toBe('ESCALATE');
  });

  it('untrusted_web.yaml escalates untrusted data leaving and denies untrusted destruction', () => {
    const policy = loadPolicy(`${directory}untrusted_web.yaml`);
    const untrusted = 'EXTERNAL_UNTRUSTED' as never;
    expect(policy.evaluate(request('send_email', { to: 'a' })).decision).toBe('ALLOW');
    expect(policy.evaluate(request('send_email', { to: 'a' }, untrusted)).decision).toBe('ESCALATE');
    expect(policy.evaluate(request('http_post', {}, untrusted)).decision).toBe('ESCALATE');
    expect(policy.evaluate(request('write_file', { path: '/tmp/x' }, untrusted)).decision).toBe('DENY');
    expect(policy.evaluate(request('write_file', { path: '/tmp/x' })).decision).toBe('ESCALATE');
    expect(policy.evaluate(request('delete_file', { path: '/workspace/a' }, untrusted)).decision).toBe(
      'DENY',
    );
    expect(
      policy.evaluate(request('fetch_url', { url: 'https://en.wikipedia.org/wiki/YAML' }, untrusted))
        .decision,
    ).toBe('ALLOW');
  });

  it('human_in_loop.yaml escalates effects and allows reads', () => {
    const policy = loadPolicy(`${directory}human_in_loop.yaml`);
    expect(policy.evaluate(request('read_file', { path: '/workspace/a' })).decision).toBe('ALLOW');
    for (const action of ['write_file', 'delete_file', 'send_email']) {
      expect(policy.evaluate(request(action)).decision).toBe('ESCALATE');
    }
    expect(policy.evaluate(request('deploy_production', { environment: 'production' })).decision).toBe(
      'ESCALATE',
    );
    expect(policy.evaluate(request('deploy_production', { environment: 'moon' })).decision).toBe('DENY');
    expect(policy.evaluate(request('fetch_url', { url: 'https://api.example.com/x' })).decision).toBe(
      'ALLOW',
    );
    expect(policy.evaluate(request('fetch_url', { url: 'https://elsewhere.net/x' })).decision).toBe(
      'ESCALATE',
    );
  });

  it('multi_tenant.yaml narrows per tenant', () => {
    const policy = loadPolicy(`${directory}multi_tenant.yaml`);
    expect(policy.tenants).toEqual(['acme-bank', 'trial']);
    const write = { ...request('write_file', { path: '/workspace/a' }) };
    expect(policy.evaluate(write).decision).toBe('ALLOW');
    expect(policy.evaluate({ ...write, tenant: 'acme-bank' }).decision).toBe('ESCALATE');
    expect(policy.evaluate({ ...write, tenant: 'trial' }).decision).toBe('DENY');
    expect(policy.evaluate({ ...request('send_email'), tenant: 'acme-bank' }).decision).toBe('DENY');
  });

  it('ships a passing test file beside every policy', () => {
    for (const file of files) {
      const tests = readPolicyTests(join(directory, file.replace(/\.(ya?ml|json)$/, '.test.yaml')));
      expect(tests.ok, file).toBe(true);
      if (!tests.ok) continue;
      expect(tests.value.policy).toBe(join(directory, file));
      const results = runPolicyTests(loadPolicy(join(directory, file)), tests.value.cases);
      expect(
        results.filter((result) => !result.passed),
        file,
      ).toEqual([]);
    }
  });
});
