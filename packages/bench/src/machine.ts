import { cpus, release, totalmem } from 'node:os';
import type { MachineInfo } from './report.js';

/** The machine and runtime the numbers come from. */
export function machineInfo(): MachineInfo {
  const processors = cpus();
  return {
    cpus: { model: processors[0]?.model.trim() ?? 'unknown', count: processors.length },
    memoryBytes: totalmem(),
    os: { platform: process.platform, release: release(), arch: process.arch },
    node: process.version,
    v8: process.versions.v8,
  };
}
