/**
 * The slice of the WebAssembly JS API the SIMD kernels use (src/kernel/wasmGram.ts, src/spectrum/wasmGemm.ts),
 * typed here because tsconfig has no DOM lib and @types/node does not declare it. No node:* import: the
 * numeric core uses it.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  /** Grows by `pages` × 64 KiB; throws RangeError when the engine refuses. Detaches the old buffer. */
  grow(pages: number): number;
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: object };
}

const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

export const WASM_PAGE_BYTES = 65536;

/** A kernel module committed as base64 (scripts/gen-wasm.ts): decoded and compiled once, on first use. */
export class WasmKernelModule<Exports extends object> {
  private bytesCache: Uint8Array | undefined;
  private compiled: object | undefined;
  private valid: boolean | undefined;

  constructor(private readonly base64: string) {}

  get bytes(): Uint8Array {
    this.bytesCache ??= Uint8Array.from(atob(this.base64), (c) => c.charCodeAt(0));
    return this.bytesCache;
  }

  /** Whether this runtime runs the module (WebAssembly present, and SIMD when the module uses it). */
  get supported(): boolean {
    this.valid ??= typeof api?.validate === 'function' && api.validate(this.bytes);
    return this.valid;
  }

  /** A fresh instance with its own memory. Call only when `supported`. */
  instantiate(): Exports {
    const wasm = api as WasmApi;
    this.compiled ??= new wasm.Module(this.bytes);
    return new wasm.Instance(this.compiled).exports as Exports;
  }
}

/** Grows `memory` to at least `need` bytes (it never shrinks: the high-water mark is kept). */
export function reserveWasmMemory(memory: WasmMemory, need: number, what: string): void {
  const have = memory.buffer.byteLength;
  if (need <= have) return;
  try {
    memory.grow(Math.ceil((need - have) / WASM_PAGE_BYTES));
  } catch (err) {
    throw new RangeError(`${what}: cannot grow WebAssembly memory from ${have} to ${need} bytes (${err instanceof Error ? err.message : String(err)})`, {
      cause: err,
    });
  }
}
