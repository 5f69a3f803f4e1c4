/** What the figures were measured on: CPU, cores, load, Node, and the Python reference's versions. */
import os from 'node:os';
import { pythonVersions } from './python.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  loadAverage: [number, number, number];
  memoryGiB: number;
  platform: string;
  node: string;
  python: string;
}

export function loadAverage(): [number, number, number] {
  const [a, b, c] = os.loadavg();
  return [a, b, c];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    loadAverage: loadAverage(),
    memoryGiB: os.totalmem() / 2 ** 30,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    python: pythonVersions(),
  };
}

export function describeMachine(m: MachineInfo): string {
  return (
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(0)} GiB, ${m.platform}; node ${m.node}; ${m.python}\n` +
    `load average (1/5/15 min): ${m.loadAverage.map((l) => l.toFixed(2)).join(' ')} — other work on this machine skews every figure`
  );
}
