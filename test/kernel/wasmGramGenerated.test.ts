/**
 * src/kernel/wasm/gramWasm.ts holds gram.wat assembled by wabt and is committed, so that the runtime never needs
 * wabt; this fails when it is stale (run `npm run gen:wasm`). It runs the exact `npm run gen:wasm` command into a
 * temp file and compares, and checks that the committed bytes are the module the backend instantiates.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GRAM_WASM_BASE64 } from '../../src/kernel/wasm/gramWasm.js';
import { gramWasmBytes } from '../../src/kernel/wasmGram.js';

const COMMITTED = 'src/kernel/wasm/gramWasm.ts';
/** WebAssembly.Module's reflection API (tsconfig has no DOM lib, and @types/node does not declare it). */
const WasmModule = (globalThis as unknown as { WebAssembly: { Module: { new (b: Uint8Array): object; exports(m: object): Array<{ name: string }> } } })
  .WebAssembly.Module;

describe('generated WebAssembly module', () => {
  it('matches gram.wat (npm run gen:wasm)', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    const [bin, ...args] = pkg.scripts['gen:wasm'].split(/\s+/);
    const dir = mkdtempSync(join(tmpdir(), 'ntk-wasm-'));
    try {
      const out = join(dir, 'gramWasm.ts');
      execFileSync(join('node_modules', '.bin', bin), [...args, out], { stdio: 'pipe' });
      expect(readFileSync(COMMITTED, 'utf8'), `${COMMITTED} is stale: run npm run gen:wasm`).toBe(readFileSync(out, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('decodes to a WebAssembly module with the kernels the backend calls', () => {
    const bytes = gramWasmBytes();
    expect(bytes.length).toBe(Buffer.from(GRAM_WASM_BASE64, 'base64').length);
    expect([...bytes.subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
    const exports = WasmModule.exports(new WasmModule(bytes)).map((e) => e.name).sort();
    expect(exports).toEqual(['gram_f32', 'gram_f64', 'memory', 'pack_f32_f32', 'pack_f32_f64', 'pack_f64_f32', 'pack_f64_f64']);
  });
});
