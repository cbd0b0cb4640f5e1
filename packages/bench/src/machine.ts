import { hash } from 'node:crypto';
import { cpus, release, totalmem } from 'node:os';
import type { MachineInfo, MachineReference } from './report.js';
import { blackhole } from './harness.js';

/** The machine and runtime the numbers come from. */
export function machineInfo(): MachineInfo {
  const processors = cpus();
  return {
    cpus: { model: processors[0]?.model.trim() ?? 'unknown', count: processors.length },
    memoryBytes: totalmem(),
    os: { platform: process.platform, release: release(), arch: process.arch },
    node: process.version,
    v8: process.versions.v8,
    reference: machineReference(),
  };
}

/** Batches per workload; the median batch is reported. */
const BATCHES = 15;

/** The median over {@link BATCHES} batches of `count` calls of `operation`, in ns per call. */
function medianNs(count: number, operation: (index: number) => unknown): number {
  const perCall: number[] = [];
  for (let batch = 0; batch < BATCHES; batch++) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < count; index++) blackhole.value = operation(index);
    perCall.push(Number(process.hrtime.bigint() - started) / count);
  }
  perCall.sort((left, right) => left - right);
  return perCall[BATCHES >> 1] as number;
}

const RECORD_SIZED = 'r'.repeat(300);

/**
 * The machine's speed on two fixed workloads (about 50 ms in all), measured before any case: see
 * {@link MachineInfo.reference}.
 */
export function machineReference(): MachineReference {
  const sha256Ns = medianNs(2_000, () => hash('sha256', RECORD_SIZED, 'hex'));
  const jsStepNs = medianNs(200_000, (index) => {
    const point = { x: index, y: index * 31 };
    return (point.x ^ point.y) & 0xffff;
  });
  return { sha256Ns: Number(sha256Ns.toFixed(1)), jsStepNs: Number(jsStepNs.toFixed(2)) };
}
