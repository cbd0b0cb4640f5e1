import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRedisConnection, type PendingApproval, RedisApprovalQueue } from '@ape/redis';
import { startRedisServer, type TestRedisServer } from '@ape/redis/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apeBin, childEnv } from '../mcp/support.js';

// A fleet of four Node processes (fixtures/agent-worker.mjs), each with its own runtimes, authority
// and audit log, sharing one real redis-server for budgets, previous actions, approvals and
// revocations. Tools append a line to one file when they really run: the ground truth.

const worker = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'agent-worker.mjs');
const run = promisify(execFile);

let server: TestRedisServer;
let directory: string;
let policyFile: string;
let fleets = 0;
const running: Fleet[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  directory = mkdtempSync(join(tmpdir(), 'ape-fleet-'));
  policyFile = join(directory, 'policy.yaml');
  writeFileSync(
    policyFile,
    `version: 1
name: fleet
allowed_actions: [read_file, send_email, delete_file]
escalation_required: [deploy]
tool_transitions:
  read_file: [read_file, send_email]
`,
  );
});

afterEach(() => {
  // A failed test leaves its fleet behind: kill it so it cannot slow the next test down.
  for (const fleet of running.splice(0)) fleet.kill();
});

afterAll(async () => {
  await server.stop();
  rmSync(directory, { recursive: true, force: true });
});

interface Reply {
  readonly ok?: boolean | number;
  readonly code?: string;
  readonly state?: string;
  readonly codes?: Record<string, number>;
}

interface Fleet {
  readonly prefix: string;
  readonly ranFile: string;
  send(index: number, command: Record<string, unknown>): Promise<Reply>;
  ran(): string[];
  /** Ends every process (audit logs closed) and returns every audit record of the fleet. */
  stop(): Promise<{ type: string; data: Record<string, unknown> }[]>;
  /** Kills every process at once (after a failed test). */
  kill(): void;
}

async function startFleet(budget: number, timeoutMs = 1_000, size = 4): Promise<Fleet> {
  fleets += 1;
  const prefix = `fleet${fleets}:`;
  const ranFile = join(directory, `ran-${fleets}.txt`);
  writeFileSync(ranFile, '');
  const audits: string[] = [];
  const processes = Array.from({ length: size }, (_, index) => {
    const audit = join(directory, `audit-${fleets}-${index}.jsonl`);
    audits.push(audit);
    const child = spawn(
      process.execPath,
      [worker, server.url, prefix, policyFile, audit, ranFile, String(budget), '86400000', String(timeoutMs)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines: Interface = createInterface({ input: child.stdout });
    const queue: ((line: string) => void)[] = [];
    lines.on('line', (line) => queue.shift()?.(line));
    const next = () => new Promise<string>((resolve) => queue.push(resolve));
    return { child, next, ready: next() };
  });
  await Promise.all(
    processes.map(async (process) => expect(JSON.parse(await process.ready)).toEqual({ ready: true })),
  );
  const fleet: Fleet = {
    prefix,
    ranFile,
    async send(index, command) {
      const target = processes[index];
      if (target === undefined) throw new Error(`no worker ${index}`);
      const reply = target.next();
      target.child.stdin.write(`${JSON.stringify(command)}\n`);
      return JSON.parse(await reply) as Reply;
    },
    ran: () => readFileSync(ranFile, 'utf8').split('\n').filter(Boolean),
    kill() {
      for (const process of processes) process.child.kill('SIGKILL');
    },
    async stop() {
      await Promise.all(
        processes.map(
          (process) =>
            new Promise<void>((resolve) => {
              process.child.once('exit', () => resolve());
              process.child.stdin.write('{"op":"exit"}\n');
            }),
        ),
      );
      return audits.flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> }),
      );
    },
  };
  running.push(fleet);
  return fleet;
}

async function pending(prefix: string): Promise<PendingApproval> {
  const connection = createRedisConnection({ url: server.url, timeoutMs: 2_000 });
  try {
    const queue = new RedisApprovalQueue({ connection, prefix });
    for (let attempt = 0; attempt < 400; attempt++) {
      const [first] = await queue.list();
      if (first !== undefined) return first;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('no escalation was published');
  } finally {
    await connection.close();
  }
}

function ape(...args: string[]) {
  return run(process.execPath, [apeBin, ...args], { env: childEnv() });
}

describe('a fleet of four processes on one Redis', () => {
  it('runs exactly N of 1,000 concurrent calls against a tenant budget of N per window, and audits every refusal', async () => {
    const budget = 61;
    // A call whose store call times out is denied but its use may still be counted (fail closed):
    // exactly N needs a bound above the worst latency of a loaded machine.
    const fleet = await startFleet(budget, 15_000);
    const replies = await Promise.all(
      [0, 1, 2, 3].map((index) => fleet.send(index, { op: 'burst', count: 250, action: 'send_email' })),
    );
    const admitted = replies.reduce((sum, reply) => sum + Number(reply.ok), 0);
    expect(admitted).toBe(budget);
    expect(fleet.ran()).toEqual(Array(budget).fill('send_email'));
    for (const reply of replies)
      expect(Object.keys(reply.codes ?? {}).filter((code) => code !== 'POLICY_DENY')).toEqual([]);
    const records = await fleet.stop();
    const denials = records.filter(
      (record) => record.type === 'decision.made' && record.data['decision'] === 'DENY',
    );
    expect(denials).toHaveLength(1_000 - budget);
    expect(records.filter((record) => record.type === 'tool.executed')).toHaveLength(budget);
  });

  it('holds a tool_transitions rule when a lineage’s calls alternate between processes', async () => {
    const fleet = await startFleet(1_000);
    const lineage = { lineage: 'conversation-1' };
    expect(await fleet.send(0, { op: 'call', action: 'read_file', ...lineage })).toMatchObject({ ok: true });
    expect(await fleet.send(1, { op: 'call', action: 'delete_file', ...lineage })).toMatchObject({
      ok: false,
      code: 'POLICY_DENY',
    });
    expect(await fleet.send(2, { op: 'call', action: 'send_email', ...lineage })).toMatchObject({ ok: true });
    expect(await fleet.send(3, { op: 'call', action: 'delete_file', ...lineage })).toMatchObject({
      ok: true,
    });
    expect(
      await fleet.send(1, { op: 'call', action: 'delete_file', lineage: 'conversation-2' }),
    ).toMatchObject({
      ok: true,
    });
    expect(fleet.ran()).toEqual(['read_file', 'send_email', 'delete_file', 'delete_file']);
    const records = await fleet.stop();
    expect(
      records.filter((record) => record.type === 'decision.made' && record.data['decision'] === 'DENY'),
    ).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ action: 'delete_file', rules: ['tool_transitions.read_file'] }),
      }),
    ]);
  });

  it('resumes an agent approved with ape approve from another process, stops one denied with ape deny, and denies on timeout', async () => {
    const fleet = await startFleet(1_000);
    const approved = fleet.send(0, { op: 'call', action: 'deploy' });
    const first = await pending(fleet.prefix);
    await ape('approve', first.id, '--redis', server.url, '--prefix', fleet.prefix, '--approver', 'alice');
    expect(await approved).toMatchObject({ ok: true });

    const denied = fleet.send(1, { op: 'call', action: 'deploy' });
    const second = await pending(fleet.prefix);
    await ape('deny', second.id, '--redis', server.url, '--prefix', fleet.prefix, '--approver', 'bob');
    expect(await denied).toMatchObject({ ok: false, code: 'ESCALATION_DENIED', state: 'TERMINATED' });

    expect(await fleet.send(2, { op: 'call', action: 'deploy', escalationTimeoutMs: 1_500 })).toMatchObject({
      ok: false,
      code: 'ESCALATION_DENIED',
      state: 'TERMINATED',
    });
    expect(fleet.ran()).toEqual(['deploy']);
    const records = await fleet.stop();
    const answers = records
      .filter((record) => record.type === 'escalation.approved' || record.type === 'escalation.denied')
      .map((record) => [record.type, record.data['approver']]);
    expect(answers).toEqual(
      expect.arrayContaining([
        ['escalation.approved', 'alice'],
        ['escalation.denied', 'bob'],
        ['escalation.denied', 'timeout'],
      ]),
    );
  });

  it('stops every process’s next call after ape revoke --tenant, and lets them run again after --lift', async () => {
    const fleet = await startFleet(1_000);
    for (const index of [0, 1, 2, 3]) {
      expect(await fleet.send(index, { op: 'call', action: 'read_file' })).toMatchObject({ ok: true });
    }
    await ape(
      'revoke',
      '--tenant',
      'acme',
      '--redis',
      server.url,
      '--prefix',
      fleet.prefix,
      '--reason',
      'runaway',
    );
    // After the feed's staleness bound (50 ms + 2 × 1000 ms) every view has either read the revocation or gone stale:
    // either way the next call is refused.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    for (const index of [0, 1, 2, 3]) {
      const reply = await fleet.send(index, { op: 'call', action: 'read_file' });
      expect(reply).toMatchObject({ ok: false, code: 'POLICY_DENY' });
    }
    expect(fleet.ran()).toHaveLength(4);
    await ape('revoke', '--tenant', 'acme', '--redis', server.url, '--prefix', fleet.prefix, '--lift');
    for (const index of [0, 1, 2, 3]) {
      let reply: Reply = {};
      for (let attempt = 0; attempt < 40 && reply.ok !== true; attempt++) {
        reply = await fleet.send(index, { op: 'call', action: 'read_file' });
        if (reply.ok !== true) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(reply).toMatchObject({ ok: true });
    }
    const records = await fleet.stop();
    const revoked = records.filter(
      (record) => record.type === 'decision.made' && record.data['code'] === 'REVOKED',
    );
    expect(revoked.length).toBeGreaterThanOrEqual(1);
  });

  it('runs no tool without a counted budget while Redis is stopped or frozen, audits every refusal, and recovers', async () => {
    const fleet = await startFleet(1_000);
    const call = (index: number) => fleet.send(index, { op: 'call', action: 'send_email' });
    expect((await Promise.all([0, 1, 2, 3].map(call))).every((reply) => reply.ok === true)).toBe(true);

    server.pause();
    let frozen: Reply[];
    try {
      frozen = await Promise.all([0, 1, 2, 3].map(call));
    } finally {
      server.resume();
    }
    await server.kill();
    const stopped = await Promise.all([0, 1, 2, 3].map(call));
    for (const reply of [...frozen, ...stopped])
      expect(reply).toMatchObject({ ok: false, code: 'POLICY_DENY' });
    expect(fleet.ran()).toHaveLength(4);

    await server.start();
    for (const index of [0, 1, 2, 3]) {
      let reply: Reply = {};
      for (let attempt = 0; attempt < 60 && reply.ok !== true; attempt++) {
        reply = await call(index);
        if (reply.ok !== true) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(reply).toMatchObject({ ok: true });
    }
    const ran = fleet.ran().length;
    const records = await fleet.stop();
    // Every run is a counted call (a tool.executed after a decision that reserved its use), and every
    // call that did not run was refused in the log.
    expect(records.filter((record) => record.type === 'tool.executed')).toHaveLength(ran);
    const calls = records.filter((record) => record.type === 'plan.extended').length;
    const refusals = records.filter(
      (record) =>
        (record.type === 'decision.made' && record.data['decision'] === 'DENY') ||
        (record.type === 'token.revoked' && record.data['stage'] !== undefined),
    ).length;
    expect(ran + refusals).toBe(calls);
  });
});
