import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createJsonlFileAuditSink } from '@ape/audit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';
import { parseSeq } from './audit-proofs.js';

let temp: ReturnType<typeof createTempDirectory>;

async function writeLog(name: string, count: number, from = 0): Promise<void> {
  const sink = await createJsonlFileAuditSink(join(temp.path, name));
  for (let index = from; index < from + count; index++) {
    await sink.append({
      type: 'decision.made',
      tenant: 'acme',
      session: 's1',
      time: Date.UTC(2026, 0, 1, 0, 0, index),
      data: { index },
    });
  }
  await sink.close();
}

function audit(...args: string[]) {
  return run(['audit', ...args], { cwd: temp.path });
}

beforeEach(async () => {
  temp = createTempDirectory();
  await writeLog('audit.jsonl', 8);
  expect((await audit('keygen', '--out', 'log', '--name', 'acme/audit')).code).toBe(0);
});
afterEach(() => temp.remove());

describe('ape audit keygen', () => {
  it('writes a private key of mode 0600 and a public key, and never overwrites them', async () => {
    expect(statSync(join(temp.path, 'log.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(temp.path, 'log.key'), 'utf8')).toMatch(
      /^PRIVATE\+KEY\+acme\/audit\+[0-9a-f]{8}\+/,
    );
    expect(readFileSync(join(temp.path, 'log.pub'), 'utf8')).toMatch(/^acme\/audit\+[0-9a-f]{8}\+/);
    const again = await audit('keygen', '--out', 'log');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/cannot write log\.key: it already exists/);
  });

  it('reports the written key pair with --json', async () => {
    const result = await audit('keygen', '--out', 'json-key', '--name', 'acme/json', '--json');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as Record<string, string>;
    expect(json).toMatchObject({
      name: 'acme/json',
      privateKeyFile: 'json-key.key',
      publicKeyFile: 'json-key.pub',
    });
    expect(`${json['verifierKey']}\n`).toBe(readFileSync(join(temp.path, 'json-key.pub'), 'utf8'));
  });

  it('exits 2 for a key name with spaces', async () => {
    const result = await audit('keygen', '--out', 'other', '--name', 'two words');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Key name "two words"/);
  });
});

describe('ape audit checkpoint and verify --checkpoint', () => {
  it('signs a checkpoint that the untouched log verifies against', async () => {
    const made = await audit('checkpoint', 'audit.jsonl', '--key', 'log.key', '--out', 'cp.txt');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^wrote cp\.txt: 8 records of audit\.jsonl, root [0-9a-f]{64}/);
    const result = await audit('verify', 'audit.jsonl', '--checkpoint', 'cp.txt', '--key', 'log.pub');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^intact audit\.jsonl: 8 records, hash chain verified, matches checkpoint cp\.txt \(8 records, signed by acme\/audit\+/,
    );
    const json = JSON.parse(
      (await audit('verify', 'audit.jsonl', '--checkpoint', 'cp.txt', '--key', 'log.pub', '--json')).stdout,
    );
    expect(json).toMatchObject({
      ok: true,
      status: 'intact',
      checkpointFile: 'cp.txt',
      checkpoint: { size: 8, matches: true },
    });
  });

  it('prints the checkpoint note without --out', async () => {
    const made = await audit('checkpoint', 'audit.jsonl', '--key', 'log.key');
    expect(made.stdout).toMatch(/^acme\/audit\n8\n[A-Za-z0-9+/]{43}=\n\n\u2014 acme\/audit /);
  });

  it('exits 1 when the tail was cut after the checkpoint', async () => {
    await audit('checkpoint', 'audit.jsonl', '--key', 'log.key', '--out', 'cp.txt');
    const lines = readFileSync(join(temp.path, 'audit.jsonl'), 'utf8').split('\n');
    writeFileSync(join(temp.path, 'audit.jsonl'), `${lines.slice(0, 5).join('\n')}\n`);
    const result = await audit('verify', 'audit.jsonl', '--checkpoint', 'cp.txt', '--key', 'log.pub');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^TAMPERED audit\.jsonl: does not match checkpoint cp\.txt \(checkpoint-ahead\)/,
    );
  });

  it('exits 1 for a checkpoint signed by another key', async () => {
    await audit('keygen', '--out', 'other', '--name', 'acme/audit');
    await audit('checkpoint', 'audit.jsonl', '--key', 'other.key', '--out', 'cp.txt');
    const result = await audit('verify', 'audit.jsonl', '--checkpoint', 'cp.txt', '--key', 'log.pub');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^BAD CHECKPOINT cp\.txt \(checkpoint-signature\)\ncp\.txt is not signed by key acme\/audit\+/,
    );
  });

  it('exits 2 for --checkpoint without --key, a public key given to sign, or a missing key file', async () => {
    expect((await audit('verify', 'audit.jsonl', '--checkpoint', 'cp.txt')).stderr).toMatch(/go together/);
    const wrongKey = await audit('checkpoint', 'audit.jsonl', '--key', 'log.pub');
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toMatch(/not a signer key/);
    expect((await audit('checkpoint', 'audit.jsonl', '--key', 'none.key')).code).toBe(2);
  });

  it('refuses to checkpoint a tampered log (exit 1)', async () => {
    const path = join(temp.path, 'audit.jsonl');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"index":3', '"index":9'));
    const result = await audit('checkpoint', 'audit.jsonl', '--key', 'log.key');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Refusing to checkpoint audit log/);
  });
});

describe('ape audit prove and verify-proof', () => {
  it('proves a record against a checkpoint and checks the proof without the log', async () => {
    await audit('checkpoint', 'audit.jsonl', '--key', 'log.key', '--out', 'cp.txt');
    const proved = await audit(
      'prove',
      'audit.jsonl',
      '--seq',
      '3',
      '--checkpoint',
      'cp.txt',
      '--out',
      'proof.json',
    );
    expect(proved.code).toBe(0);
    expect(proved.stdout).toMatch(/record 3 of audit\.jsonl is in the tree of 8 records/);
    writeFileSync(join(temp.path, 'audit.jsonl'), '');
    const checked = await audit('verify-proof', 'proof.json', '--key', 'log.pub');
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(
      /^PROOF OK: Record 3 is included in the tree of 8 records of the checkpoint signed by acme\/audit\+/,
    );
    const json = JSON.parse((await audit('verify-proof', 'proof.json', '--key', 'log.pub', '--json')).stdout);
    expect(json).toMatchObject({ ok: true, seq: 3, treeSize: 8, signatureChecked: true });
  });

  it('prints a proof without a checkpoint, saying how to tie it to a signature and how to save it', async () => {
    const result = await audit('prove', 'audit.jsonl', '--seq', '0');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^record 0 of audit\.jsonl is in the tree of 8 records with root [0-9a-f]{64}\ninclusion proof: 3 hashes \(no checkpoint: give --checkpoint to tie it to a signature\)\nsave it with --out <file> \(or --json\) and check it with ape audit verify-proof\n$/,
    );
  });

  it('exits 1 for an altered proof and notes an unsigned one', async () => {
    const proof = JSON.parse((await audit('prove', 'audit.jsonl', '--seq', '2', '--json')).stdout);
    writeFileSync(join(temp.path, 'proof.json'), JSON.stringify(proof));
    const unsigned = await audit('verify-proof', 'proof.json');
    expect(unsigned.code).toBe(0);
    expect(unsigned.stdout).toMatch(/note: no --key/);
    writeFileSync(join(temp.path, 'bad.json'), JSON.stringify({ ...proof, seq: 1 }));
    const bad = await audit('verify-proof', 'bad.json');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^BAD PROOF \(proof-mismatch\)/);
    writeFileSync(join(temp.path, 'junk.json'), '{"format":"x"}');
    expect((await audit('verify-proof', 'junk.json')).code).toBe(1);
  });

  it('exits 1 for a seq outside the log and 2 for a seq that is not a number', async () => {
    expect((await audit('prove', 'audit.jsonl', '--seq', '8')).code).toBe(1);
    expect((await audit('prove', 'audit.jsonl', '--seq', 'x')).code).toBe(2);
    expect(() => parseSeq('-1')).toThrow('non-negative integer');
  });
});

describe('ape audit consistency', () => {
  it('proves a later checkpoint extends an earlier one, from the log or from a saved proof', async () => {
    await audit('checkpoint', 'audit.jsonl', '--key', 'log.key', '--out', 'cp1.txt');
    await writeLog('audit.jsonl', 5, 8);
    await audit('checkpoint', 'audit.jsonl', '--key', 'log.key', '--out', 'cp2.txt');
    const fromLog = await audit(
      'consistency',
      'cp1.txt',
      'cp2.txt',
      '--key',
      'log.pub',
      '--log',
      'audit.jsonl',
      '--json',
    );
    expect(fromLog.code).toBe(0);
    writeFileSync(join(temp.path, 'consistency.json'), fromLog.stdout);
    const fromProof = await audit(
      'consistency',
      'cp1.txt',
      'cp2.txt',
      '--key',
      'log.pub',
      '--proof',
      'consistency.json',
    );
    expect(fromProof.code).toBe(0);
    expect(fromProof.stdout).toMatch(/^CONSISTENT: cp2\.txt \(13 records\) extends cp1\.txt \(8 records\)/);
  });

  it('exits 1 for a fork and 2 without exactly one of --proof and --log', async () => {
    await audit('checkpoint', 'audit.jsonl', '--key', 'log.key', '--out', 'cp1.txt');
    await writeLog('fork.jsonl', 10, 100);
    await audit('checkpoint', 'fork.jsonl', '--key', 'log.key', '--out', 'cp2.txt');
    const fork = await audit('consistency', 'cp1.txt', 'cp2.txt', '--key', 'log.pub', '--log', 'fork.jsonl');
    expect(fork.code).toBe(1);
    expect(fork.stdout).toMatch(/^INCONSISTENT \(inconsistent\): cp2\.txt does not extend cp1\.txt/);
    expect((await audit('consistency', 'cp1.txt', 'cp2.txt')).code).toBe(2);
  });
});

describe('ape audit repair', () => {
  it('shows and cuts a torn tail, then the log verifies', async () => {
    const path = join(temp.path, 'audit.jsonl');
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"seq":8,"ts`);
    const result = await audit('repair', 'audit.jsonl');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^removing the torn last line of audit\.jsonl \(line 9, 12 bytes after 8 intact records\):\n {2}\{"seq":8,"ts\n/,
    );
    expect((await audit('verify', 'audit.jsonl')).code).toBe(0);
    expect((await audit('repair', 'audit.jsonl')).stdout).toBe('intact audit.jsonl: nothing to repair\n');
  });

  it('refuses a log that fails verification for another reason (exit 1), leaving it untouched', async () => {
    const path = join(temp.path, 'audit.jsonl');
    const tampered = `${readFileSync(path, 'utf8').replace('"index":3', '"index":9')}{"torn`;
    writeFileSync(path, tampered);
    const result = await audit('repair', 'audit.jsonl');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Refusing to repair audit log/);
    expect(readFileSync(path, 'utf8')).toBe(tampered);
  });
});

describe('ape audit checkpoint and repair --json', () => {
  it('prints the checkpoint with its note, and names the --out file when given', async () => {
    const printed = await audit(
      'checkpoint',
      'audit.jsonl',
      '--key',
      'log.key',
      '--origin',
      'acme/prod',
      '--json',
    );
    expect(printed.code).toBe(0);
    const json = JSON.parse(printed.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ file: 'audit.jsonl', size: 8 });
    expect(json['rootHash']).toMatch(/^[0-9a-f]{64}$/);
    expect(json['note']).toMatch(/^acme\/prod\n8\n/);
    expect(json).not.toHaveProperty('out');

    const written = await audit('checkpoint', 'audit.jsonl', '--key', 'log.key', '--out', 'cp.txt', '--json');
    expect(written.code).toBe(0);
    const withOut = JSON.parse(written.stdout) as Record<string, unknown>;
    expect(withOut['out']).toBe('cp.txt');
    expect(readFileSync(join(temp.path, 'cp.txt'), 'utf8')).toBe(withOut['note']);
  });

  it('checkpoints the intact records of a torn log only with --allow-torn-tail', async () => {
    const path = join(temp.path, 'audit.jsonl');
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"seq":8,"ts`);
    const refused = await audit('checkpoint', 'audit.jsonl', '--key', 'log.key');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^ape: [^\n]+\n$/);
    const allowed = await audit(
      'checkpoint',
      'audit.jsonl',
      '--key',
      'log.key',
      '--allow-torn-tail',
      '--json',
    );
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ size: 8 });
  });

  it('reports the cut of a torn tail, and an intact log, as JSON', async () => {
    const path = join(temp.path, 'audit.jsonl');
    const intact = readFileSync(path, 'utf8');
    writeFileSync(path, `${intact}{"seq":8,"ts`);
    const repaired = await audit('repair', 'audit.jsonl', '--json');
    expect(repaired.code).toBe(0);
    expect(JSON.parse(repaired.stdout)).toEqual({
      file: 'audit.jsonl',
      repaired: true,
      records: 8,
      intactBytes: Buffer.byteLength(intact),
      removedBytes: 12,
      removed: '{"seq":8,"ts',
    });
    expect(readFileSync(path, 'utf8')).toBe(intact);
    const again = await audit('repair', 'audit.jsonl', '--json');
    expect(JSON.parse(again.stdout)).toEqual({ file: 'audit.jsonl', repaired: false, removedBytes: 0 });
  });
});
