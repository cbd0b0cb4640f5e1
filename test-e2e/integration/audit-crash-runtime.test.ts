import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateNoteKeyPair, readAllAuditRecords, verifyAuditLog } from '@ape/audit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 18's crash guarantee, with the real runtime and the real durable sink in a child process:
// SIGKILL at random moments, many times. The tool's only effect is a marker line, fsynced, written
// when the tool runs; a marker on disk therefore means the tool ran, and the runtime promises that
// a tool never runs before its step's pre-tool records (decision.made, token.issued,
// token.consumed) are synced. Every log must verify (a torn tail allowed) and match its last
// checkpoint, and every marker must have its three records in the log. Half the children write
// their log from the sink's writer thread (option `worker`), half from their main thread.

const TRIALS = 200;
const CONCURRENT = 4;
/**
 * The kill lands 0 … MAX_DELAY_MS after the child said it is ready to run steps (even trials), or
 * after its first tool ran (odd trials: steps are surely in flight then, however slow the disk).
 */
const MAX_DELAY_MS = 40;

const resolve = (name: string) => pathToFileURL(createRequire(import.meta.url).resolve(name)).href;
// The policy engine plays no part in what is tested here (the order of audit writes and tool
// runs), and compiling a policy would double each child's start-up: a fixed ALLOW policy stands in.
const resolveTesting = pathToFileURL(
  join(
    dirname(createRequire(import.meta.url).resolve('@ape/core/package.json')),
    'dist',
    'testing',
    'index.js',
  ),
).href;
const CHILD = `
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { createJsonlFileAuditSink } from ${JSON.stringify(resolve('@ape/audit'))};
import { AuthorityManager } from ${JSON.stringify(resolve('@ape/authority'))};
import { createRuntime, defineTool } from ${JSON.stringify(resolve('@ape/core'))};
import { createStubPolicy } from ${JSON.stringify(resolveTesting)};

const [logPath, markerPath, checkpointPath, writer] = process.argv.slice(2);
const sink = await createJsonlFileAuditSink(logPath, {
  worker: writer === 'thread',
  checkpoint: { key: process.env.APE_CRASH_SIGNER_KEY, path: checkpointPath, every: 16, intervalMs: 5 },
});
const policy = createStubPolicy({ decisions: { write_marker: 'ALLOW' } });
const authority = new AuthorityManager({ tenant: 'crash' });
const marker = openSync(markerPath, 'a');
let ran = false;
const tool = defineTool({
  id: 'write_marker',
  outputLabel: 'SYSTEM_TRUSTED',
  run: (args) => {
    writeSync(marker, args.session + ' ' + args.step + '\\n');
    fsyncSync(marker);
    if (!ran) process.stdout.write('running\\n');
    ran = true;
    return null;
  },
});
const STEPS = 100;
// Sessions are set up concurrently, so their set-up records share fsync rounds.
const sessions = await Promise.all(Array.from({ length: 4 }, async () => {
  const runtime = createRuntime({ tenant: 'crash', policy, authority, audit: sink });
  await runtime.setIntent({ allowed_actions: ['write_marker'], forbidden_actions: [], scope: 'crash test' }, { provenance: 'USER_TRUSTED' });
  const session = runtime.sessionId;
  await runtime.submitPlan({ steps: Array.from({ length: STEPS }, (_, step) => ({ action_id: 'write_marker', args: { session, step } })) }, { provenance: 'USER_TRUSTED' });
  return { runtime, session };
}));
process.stdout.write('ready\\n');
await Promise.all(sessions.map(async ({ runtime, session }) => {
  for (let step = 0; step < STEPS; step++) {
    await runtime.executeStep(step, tool, { args: { session, step }, provenance: 'USER_TRUSTED' });
  }
}));
await sink.close();
closeSync(marker);
process.stdout.write('done\\n');
`;

let directory = '';
let script = '';
const keys = generateNoteKeyPair('ape.test/crash');

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ape-audit-crash-runtime-'));
  script = join(directory, 'child.mjs');
  await writeFile(script, CHILD);
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true, maxRetries: 5 });
});

interface Trial {
  readonly log: string;
  readonly markers: string;
  readonly checkpoint: string;
  /** The child finished all its steps before the kill landed. */
  readonly finished: boolean;
  /** The kill was timed from the child's first tool run. */
  readonly afterFirstTool: boolean;
  /** The child's sink wrote from its writer thread. */
  readonly thread: boolean;
}

/**
 * Runs one child and SIGKILLs it `delayMs` after it is ready (or after its first tool ran); its
 * sink writes from a writer thread when `thread`.
 */
function trial(index: number, delayMs: number, afterFirstTool: boolean, thread: boolean): Promise<Trial> {
  const paths = {
    log: join(directory, `${index}.jsonl`),
    markers: join(directory, `${index}.markers`),
    checkpoint: join(directory, `${index}.cp`),
  };
  return new Promise((resolvePromise, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [script, paths.log, paths.markers, paths.checkpoint, thread ? 'thread' : 'main'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, APE_CRASH_SIGNER_KEY: keys.signerKey },
      },
    );
    let output = '';
    let errors = '';
    let timer: ReturnType<typeof setTimeout> | undefined;
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (timer === undefined && output.includes(afterFirstTool ? 'running\n' : 'ready\n')) {
        timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('exit', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (signal === 'SIGKILL' || (code === 0 && output.includes('done\n'))) {
        resolvePromise({ ...paths, finished: signal !== 'SIGKILL', afterFirstTool, thread });
      } else {
        reject(new Error(`child ${index} exited with ${code ?? signal} before the kill: ${errors}`));
      }
    });
  });
}

interface Outcome {
  readonly afterFirstTool: boolean;
  readonly thread: boolean;
  readonly records: number;
  readonly markers: number;
  readonly torn: boolean;
}

async function check(result: Trial): Promise<Outcome> {
  const verification = await verifyAuditLog(result.log);
  expect(verification, `log of ${result.log}`).toMatchObject({ ok: true });
  const records = await readAllAuditRecords(result.log);
  const onDisk = new Set(
    records.map((record) => `${record.type} ${record.session} ${String(record.data['stepIndex'])}`),
  );
  const markerText = existsSync(result.markers) ? await readFile(result.markers, 'utf8') : '';
  // A marker line cut by the kill is not a whole marker; only complete lines count.
  const markers = markerText.split('\n').slice(0, -1);
  for (const line of markers) {
    const [session, step] = line.split(' ');
    for (const type of ['decision.made', 'token.issued', 'token.consumed']) {
      expect(onDisk.has(`${type} ${session} ${step}`), `${type} of ${line} in ${result.log}`).toBe(true);
    }
  }
  if (existsSync(result.checkpoint)) {
    const note = await readFile(result.checkpoint, 'utf8');
    const against = await verifyAuditLog(result.log, { checkpoint: { note, key: keys.verifierKey } });
    expect(against, `log of ${result.log} against its checkpoint`).toMatchObject({
      ok: true,
      checkpoint: { matches: true },
    });
  }
  return {
    afterFirstTool: result.afterFirstTool,
    thread: result.thread,
    records: verification.records,
    markers: markers.length,
    torn: verification.truncated === true,
  };
}

describe('the runtime with a durable JSONL sink, SIGKILLed at random moments', () => {
  // About 0.4 s per child (start-up, set-up, the kill): some 40 s on two idle cores. On a machine
  // shared by many jobs (fsync then costs milliseconds) it took 18 minutes, hence the timeout;
  // TRIALS bounds the loop.
  it(`never runs a tool whose pre-tool records are not on disk, over ${TRIALS} kills`, {
    timeout: 1_200_000,
  }, async () => {
    const outcomes: Outcome[] = [];
    let next = 0;
    const worker = async () => {
      while (next < TRIALS) {
        const index = next++;
        const delay = Math.floor(Math.random() * (MAX_DELAY_MS + 1));
        const result = await trial(index, delay, index % 2 === 1, index % 4 >= 2);
        outcomes.push(await check(result));
        await rm(result.log, { force: true });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT }, worker));
    expect(outcomes).toHaveLength(TRIALS);
    // Half the kills were timed from a tool run: those children had run tools, whose markers were
    // checked above against the log (no timing assumption: the marker precedes the signal).
    const afterTool = outcomes.filter((outcome) => outcome.afterFirstTool);
    expect(afterTool).toHaveLength(TRIALS / 2);
    for (const outcome of afterTool) expect(outcome.markers).toBeGreaterThan(0);
    // Each way of writing was killed after tool runs in a quarter of the trials.
    expect(afterTool.filter((outcome) => outcome.thread)).toHaveLength(TRIALS / 4);
  });
});
