import { symlinkSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, createScratch, root } from './run-ape.js';

/**
 * docs/getting-started.md must stay true: its agent.mjs runs as written against the built packages,
 * prints what the page shows, and the commands it lists answer what their comments say.
 */
const page = readFileSync(join(root, 'docs', 'getting-started.md'), 'utf8');

function blockAfter(marker: string, language: string): string {
  const start = page.indexOf(marker);
  if (start === -1) throw new Error(`docs/getting-started.md no longer contains "${marker}"`);
  const open = page.indexOf(`\`\`\`${language}\n`, start + marker.length);
  const close = page.indexOf('\n```', open + 4);
  return page.slice(open + language.length + 4, close + 1);
}

const agent = blockAfter('Save this as `agent.mjs`', 'js');
const expectedOutput = blockAfter('node agent.mjs\n```\n', '');

let scratch: ReturnType<typeof createScratch>;

beforeAll(() => {
  scratch = createScratch();
  // The scratch project resolves @ape/* to the workspace's built packages.
  symlinkSync(join(root, 'node_modules'), join(scratch.path, 'node_modules'), 'dir');
  expect(ape(['init'], { cwd: scratch.path }).code).toBe(0);
});
afterAll(() => scratch.remove());

function node(file: string) {
  return spawnSync(process.execPath, [file], { cwd: scratch.path, encoding: 'utf8', timeout: 30_000 });
}

describe('docs/getting-started.md', () => {
  it('agent.mjs runs as written and prints what the page shows', () => {
    writeFileSync(join(scratch.path, 'agent.mjs'), agent);
    const result = node('agent.mjs');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(expectedOutput);
    expect(ape(['audit', 'verify', 'audit.jsonl'], { cwd: scratch.path }).code).toBe(0);
    const decisions = JSON.parse(
      ape(['audit', 'show', 'audit.jsonl', '--type', 'decision.made', '--json'], { cwd: scratch.path })
        .stdout,
    ).records.map((record: { data: { decision: string } }) => record.data.decision);
    expect(decisions).toEqual(['ALLOW', 'ESCALATE']);
  });

  it('with the attacker as recipient the escalation is denied and no e-mail is sent', () => {
    const attacked = agent.replace("to: 'team@acme.example'", "to: 'mallory@evil.example'");
    expect(attacked).not.toBe(agent);
    writeFileSync(join(scratch.path, 'attacked.mjs'), attacked.replace("'audit.jsonl'", "'attacked.jsonl'"));
    const result = node('attacked.mjs');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('ESCALATION_DENIED');
    expect(result.stdout).not.toContain('e-mail sent');
  });

  it.each([
    [['read_file', '--args', '{"path":"/workspace/notes.md"}'], 'ALLOW'],
    [['read_file', '--args', '{"path":"/workspace/../etc/passwd"}'], 'DENY'],
    [['send_email', '--provenance', 'EXTERNAL_UNTRUSTED'], 'ESCALATE'],
  ])('ape simulate ape-policy.yaml %j answers %s, as its comment says', (args, decision) => {
    const line = `npx @ape/cli simulate ape-policy.yaml ${args.map((arg) => (arg.startsWith('{') ? `'${arg}'` : arg)).join(' ')}`;
    expect(page).toContain(line);
    const result = ape(['simulate', 'ape-policy.yaml', ...args], { cwd: scratch.path });
    expect(result.stdout.split('\n')[0]).toBe(decision);
  });

  it('the policy test file it shows passes against the starter policy', () => {
    writeFileSync(join(scratch.path, 'ape-policy.test.yaml'), blockAfter('`ape-policy.test.yaml`:', 'yaml'));
    const result = ape(['test'], { cwd: scratch.path });
    expect(result.stdout).toContain('2 passed, 0 failed (1 file)');
    expect(result.code).toBe(0);
  });

  it('never tells the reader to type npx ape, which would fetch an unrelated registry package', () => {
    for (const line of page.split('\n')) {
      if (/npx ape\b/.test(line)) expect(line).toMatch(/Never type `npx ape`/);
    }
  });

  it('the starter policy validates', () => {
    expect(ape(['validate', 'ape-policy.yaml'], { cwd: scratch.path }).code).toBe(0);
    expect(ape(['explain', 'ape-policy.yaml'], { cwd: scratch.path }).code).toBe(0);
  });
});
