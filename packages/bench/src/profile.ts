import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { MemoryAuditSink } from '@ape/audit';
import { AuthorityManager } from '@ape/authority';
import { hashCanonical, type TokenBinding } from '@ape/core';
import { compilePolicy, loadPolicy } from '@ape/policy';
import { blackhole } from './harness.js';
import {
  openCallsSession,
  openSession,
  runNextCall,
  runNextStep,
  STEP_ACTION,
  STEP_ARGS,
  TENANT,
} from './cases/session.js';
import { request, SCALE_LIMITS, scaleYaml, THREE_LIST_ACTIONS, threeListDocument } from './workloads.js';

const USAGE = `usage:
  node --cpu-prof --cpu-prof-dir=<dir> packages/bench/dist/profile.js <decision|token|step|calls|load> [seconds]
  node packages/bench/dist/profile.js summarize <file.cpuprofile> [top]`;

/** Runs one hot path in a loop for `seconds`, for \`node --cpu-prof\`. */
async function workload(kind: string, seconds: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let calls = 0;
  if (kind === 'decision') {
    const policy = compilePolicy(threeListDocument());
    const requests = THREE_LIST_ACTIONS.map((action) => request(action));
    while (performance.now() < until) {
      for (let index = 0; index < 10_000; index++) blackhole.value = policy.evaluate(requests[index & 3]!);
      calls += 10_000;
    }
  } else if (kind === 'token') {
    const authority = new AuthorityManager({ tenant: TENANT });
    const binding: TokenBinding = {
      tenant: TENANT,
      session: 'session',
      intentVersion: 'a'.repeat(64),
      planHash: 'b'.repeat(64),
      stepIndex: 0,
      action: STEP_ACTION,
      argsHash: hashCanonical(STEP_ARGS),
    };
    while (performance.now() < until) {
      for (let index = 0; index < 1000; index++)
        await authority.consume(await authority.issue(binding), binding);
      calls += 1000;
    }
  } else if (kind === 'step') {
    const policy = compilePolicy(threeListDocument());
    const authority = new AuthorityManager({ tenant: TENANT });
    while (performance.now() < until) {
      const runtime = await openSession({ policy, authority, audit: new MemoryAuditSink() }, 1000);
      for (let index = 0; index < 1000; index++) await runNextStep(runtime);
      calls += 1000;
    }
  } else if (kind === 'calls') {
    const policy = compilePolicy(threeListDocument());
    const authority = new AuthorityManager({ tenant: TENANT });
    while (performance.now() < until) {
      const runtime = await openCallsSession({ policy, authority, audit: new MemoryAuditSink() });
      for (let index = 0; index < 1000; index++) await runNextCall(runtime);
      await runtime.terminate();
      calls += 1000;
    }
  } else if (kind === 'load') {
    const text = scaleYaml(10_000);
    while (performance.now() < until) {
      blackhole.value = loadPolicy({ text }, { limits: SCALE_LIMITS });
      calls += 1;
    }
  } else {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  process.stdout.write(`${kind}: ${calls} calls in ${seconds} s\n`);
  return 0;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Prints the frames with the most self time in a `.cpuprofile`. */
function summarize(file: string, top: number): number {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : ` ${url.split('/').slice(-3).join('/')}:${lineNumber + 1}`;
    frames.set(node.id, `${functionName === '' ? '(anonymous)' : functionName}${where}`);
  }
  const selfTime = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    const frame = frames.get(id) ?? 'unknown';
    selfTime.set(frame, (selfTime.get(frame) ?? 0) + delta);
    total += delta;
  });
  process.stdout.write(`${basename(file)}: ${(total / 1000).toFixed(0)} ms sampled\n`);
  for (const [frame, time] of [...selfTime].sort((left, right) => right[1] - left[1]).slice(0, top)) {
    process.stdout.write(`${((100 * time) / total).toFixed(1).padStart(5)} %  ${frame}\n`);
  }
  return 0;
}

const [command = '', argument, extra] = process.argv.slice(2);
process.exitCode =
  command === 'summarize' && argument !== undefined
    ? summarize(argument, Number(extra ?? 25))
    : await workload(command, Number(argument ?? 5));
