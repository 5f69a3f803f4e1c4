/** What the figures were measured on: CPU, cores, load, Node, and the Python reference's versions. */
import { readFileSync } from 'node:fs';
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
  /** SIMD flags of /proc/cpuinfo that matter here (sse4_2 … avx512*); empty off Linux. */
  simd: string;
}

const SIMD_FLAGS = /^(sse4_1|sse4_2|avx|avx2|fma|avx512f|avx512dq|avx512vl|avx512bw|avx512_fp16|avx_vnni|neon|asimd)$/;

/** The CPU's SIMD feature flags from /proc/cpuinfo ('' where it cannot be read). */
export function simdFlags(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = /^(flags|Features)\s*:(.*)$/m.exec(info)?.[2] ?? '';
    return line.trim().split(/\s+/).filter((f) => SIMD_FLAGS.test(f)).join(' ');
  } catch {
    return '';
  }
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
    simd: simdFlags(),
  };
}

export function describeMachine(m: MachineInfo): string {
  return (
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(0)} GiB, ${m.platform}; node ${m.node}; ${m.python}\n` +
    `SIMD flags: ${m.simd || 'unknown'}\n` +
    `load average (1/5/15 min): ${m.loadAverage.map((l) => l.toFixed(2)).join(' ')} — other work on this machine skews every figure`
  );
}
