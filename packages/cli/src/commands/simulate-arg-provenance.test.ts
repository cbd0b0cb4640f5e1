import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';

const POLICY = `version: 1
name: mail
rules:
  - id: mail-to-user-recipients
    actions: [send_email]
    effect: allow
    when:
      args:
        type: object
        properties:
          to: { type: string, x-ape-provenance: [SYSTEM_TRUSTED, USER_TRUSTED] }
          cc: { type: array, items: { x-ape-provenance: [SYSTEM_TRUSTED, USER_TRUSTED] } }
  - id: untrusted-recipient
    actions: [send_email]
    effect: escalate
    when:
      args: { type: object, properties: { to: { x-ape-provenance: [EXTERNAL_UNTRUSTED] } } }
`;
const MAIL = '{"to":"boss@example.com","body":"summary","cc":["a@example.com"]}';

let temp: ReturnType<typeof createTempDirectory>;
beforeEach(() => {
  temp = createTempDirectory();
  writeFileSync(join(temp.path, 'policy.yaml'), POLICY);
});
afterEach(() => temp.remove());

function simulate(...args: string[]) {
  return run(['simulate', 'policy.yaml', 'send_email', '--args', MAIL, '--json', ...args], {
    cwd: temp.path,
  });
}

describe('ape simulate --arg-provenance', () => {
  it('allows a call whose body is untrusted while the recipients are the user’s', async () => {
    const result = await simulate('--arg-provenance', '/body=EXTERNAL_UNTRUSTED');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      decision: 'ALLOW',
      rules: ['mail-to-user-recipients'],
    });
  });

  it('escalates the attack variant, whose recipient came from the page', async () => {
    const result = await simulate(
      '--arg-provenance',
      '/body=EXTERNAL_UNTRUSTED',
      '--arg-provenance',
      '/to=EXTERNAL_UNTRUSTED',
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ decision: 'ESCALATE', rules: ['untrusted-recipient'] });
  });

  it('labels every leaf below a pointer and keeps the least trusted label where labels nest', async () => {
    const denied = await simulate('--arg-provenance', '/cc=EXTERNAL_UNTRUSTED');
    expect(JSON.parse(denied.stdout)).toMatchObject({ decision: 'DENY' });
    const nested = await simulate(
      '--arg-provenance',
      '/cc=EXTERNAL_UNTRUSTED',
      '--arg-provenance',
      '/cc/0=SYSTEM_TRUSTED',
    );
    expect(JSON.parse(nested.stdout)).toMatchObject({ decision: 'DENY' });
  });

  it('gives unnamed arguments the --provenance label', async () => {
    const result = await simulate(
      '--provenance',
      'EXTERNAL_UNTRUSTED',
      '--arg-provenance',
      '/to=USER_TRUSTED',
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ decision: 'DENY' });
    const trusted = await simulate(
      '--provenance',
      'EXTERNAL_UNTRUSTED',
      '--arg-provenance',
      '/to=USER_TRUSTED',
      '--arg-provenance',
      '/cc=USER_TRUSTED',
    );
    expect(JSON.parse(trusted.stdout)).toMatchObject({ decision: 'ALLOW' });
  });

  it.each([
    [['/nope=USER_TRUSTED'], /--arg-provenance \/nope: the arguments have no value at this pointer/],
    [['to=USER_TRUSTED'], /--arg-provenance "to=USER_TRUSTED": expected <JSON pointer>=<label>/],
    [['/to=ROOT'], /--arg-provenance \/to: Unknown provenance label/],
    [['/cc/x=USER_TRUSTED'], /--arg-provenance \/cc\/x: the arguments have no value/],
    [['/t~2o=USER_TRUSTED'], /"~" must be followed by 0 or 1/],
  ])('exits 2 for %j', async (entries, message) => {
    const result = await simulate(...entries.flatMap((entry) => ['--arg-provenance', entry]));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('reads argProvenance in --batch lines', async () => {
    writeFileSync(
      join(temp.path, 'requests.jsonl'),
      [
        `{"action":"send_email","args":${MAIL},"argProvenance":{"/body":"EXTERNAL_UNTRUSTED"}}`,
        `{"action":"send_email","args":${MAIL},"argProvenance":{"/to":"EXTERNAL_UNTRUSTED","/a~1b":"USER_TRUSTED"}}`,
      ]
        .slice(0, 1)
        .join('\n'),
    );
    const result = await run(['simulate', 'policy.yaml', '--batch', 'requests.jsonl'], { cwd: temp.path });
    expect(result.stdout.trimEnd().split('\n')).toEqual(['ALLOW send_email mail-to-user-recipients']);
    writeFileSync(
      join(temp.path, 'requests.jsonl'),
      `{"action":"send_email","args":${MAIL},"argProvenance":{"/to":"EXTERNAL_UNTRUSTED"}}\n`,
    );
    const attack = await run(['simulate', 'policy.yaml', '--batch', 'requests.jsonl'], { cwd: temp.path });
    expect(attack.stdout.trimEnd()).toBe('ESCALATE send_email untrusted-recipient');
  });

  it.each([
    ['"argProvenance":"USER_TRUSTED"', /"argProvenance" must be a JSON object/],
    ['"argProvenance":{"to":"USER_TRUSTED"}', /argProvenance "to": a JSON pointer starts with "\/"/],
    ['"argProvenance":{"/to":"ME"}', /line 1: argProvenance \/to: Unknown provenance label/],
  ])('exits 2 for a batch line with %s', async (entry, message) => {
    writeFileSync(join(temp.path, 'requests.jsonl'), `{"action":"send_email","args":${MAIL},${entry}}\n`);
    const result = await run(['simulate', 'policy.yaml', '--batch', 'requests.jsonl'], { cwd: temp.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
