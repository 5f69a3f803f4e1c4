/** Gram accumulation: backends, symmetrization and the full/traced kernel accumulator (docs/design.md §6). */
export type { BackendKind, GramBackend, GramBackendOptions, GramBlock } from './gramBackend.js';
export { BACKEND_KINDS, checkAccumulateArgs } from './gramBackend.js';
export { createGramBackend, maxScaledError } from './createGramBackend.js';
export { ReferenceGramBackend, accumulateGramReference } from './referenceGram.js';
export { WasmGramBackend, wasmSimdSupported, type WasmGramOptions, type WasmPrecision } from './wasmGram.js';
export { finalizeGram, symmetrizeGram } from './finalizeGram.js';
export { reduceToTraced, traceKernel } from './reduceToTraced.js';
export { KERNEL_REDUCTIONS, KernelAccumulator, type KernelReduction } from './kernelAccumulator.js';
