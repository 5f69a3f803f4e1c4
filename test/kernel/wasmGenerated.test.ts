/**
 * The WebAssembly kernels are committed assembled (src/kernel/wasm/gramWasm.ts, src/spectrum/wasm/gemmWasm.ts, symvWasm.ts),
 * so that the runtime never needs wabt; this fails when one is stale (run `npm run gen:wasm`). It runs the exact
 * `npm run gen:wasm` command into a temp dir and compares, and checks the committed bytes are the modules the
 * backends instantiate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GRAM_WASM_BASE64 } from '../../src/kernel/wasm/gramWasm.js';
import { GEMM_WASM_BASE64 } from '../../src/spectrum/wasm/gemmWasm.js';
import { SYMV_WASM_BASE64 } from '../../src/spectrum/wasm/symvWasm.js';
import { WasmKernelModule } from '../../src/wasmRuntime.js';

const COMMITTED = ['src/kernel/wasm/gramWasm.ts', 'src/spectrum/wasm/gemmWasm.ts', 'src/spectrum/wasm/symvWasm.ts'];
/** WebAssembly.Module's reflection API (tsconfig has no DOM lib, and @types/node does not declare it). */
const WasmModule = (globalThis as unknown as { WebAssembly: { Module: { new (b: Uint8Array): object; exports(m: object): Array<{ name: string }> } } })
  .WebAssembly.Module;

describe('generated WebAssembly modules', () => {
  it('match their .wat (npm run gen:wasm)', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    const [bin, ...args] = pkg.scripts['gen:wasm'].split(/\s+/);
    const dir = mkdtempSync(join(tmpdir(), 'ntk-wasm-'));
    try {
      execFileSync(join('node_modules', '.bin', bin), [...args, dir], { stdio: 'pipe' });
      expect(readdirSync(dir).sort()).toEqual(COMMITTED.map((f) => f.split('/').pop()).sort());
      for (const f of COMMITTED) {
        expect(readFileSync(f, 'utf8'), `${f} is stale: run npm run gen:wasm`).toBe(readFileSync(join(dir, f.split('/').pop()!), 'utf8'));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('decode to WebAssembly modules with the kernels the backends call', () => {
    const cases: Array<[string, string[]]> = [
      [GRAM_WASM_BASE64, ['gram_f32', 'gram_f64', 'memory', 'pack_f32_f32', 'pack_f32_f64', 'pack_f64_f32', 'pack_f64_f64']],
      [GEMM_WASM_BASE64, ['gemm_f64', 'memory', 'pack_a', 'pack_b']],
      [SYMV_WASM_BASE64, ['memory', 'symv_lower']],
    ];
    for (const [b64, names] of cases) {
      const mod = new WasmKernelModule(b64);
      expect(mod.bytes.length).toBe(Buffer.from(b64, 'base64').length);
      expect([...mod.bytes.subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
      expect(mod.supported).toBe(true);
      expect(WasmModule.exports(new WasmModule(mod.bytes)).map((e) => e.name).sort()).toEqual(names);
    }
  });
});
