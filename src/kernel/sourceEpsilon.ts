/**
 * ε_src of docs/science.md A0: the relative precision of the numbers a kernel was built from, which sets the
 * spectrum's noise floor (tolerance = λ₁·max(size·2⁻⁵², ε_src)). One rule for the server and the CLI.
 */

/** Wire dtypes (proto DType) and numpy dtypes map to the same precisions. */
export type SourcePrecision = 'f64' | 'f32' | 'f16' | 'bf16';

const EPS: Record<SourcePrecision, number> = { f64: 0, f32: 1e-6, f16: 1e-3, bf16: 1e-3 };

/**
 * `backend` is the Gram backend's name when the kernel was multiplied here: gpu.js and the float32 WebAssembly path
 * multiply in float32 even for float64 input (docs/design.md §6), so their products are no better than f32.
 */
export function sourceEpsilon(precision: SourcePrecision, backend?: string): number {
  const eps = EPS[precision];
  return backend !== undefined && (backend.startsWith('gpujs') || backend.endsWith('f32')) ? Math.max(eps, EPS.f32) : eps;
}

/**
 * ε_src of a snapshot's kernel: a Gram arrives multiplied by the trainer (its dtype alone), a Jacobian or sketch is
 * multiplied here by `backend`.
 */
export function kernelEpsilon(kind: string, dtype: string, backend: string): number {
  return sourceEpsilon(precisionOfDType(dtype), kind === 'TENSOR_KIND_GRAM' ? undefined : backend);
}

/** 'DTYPE_F32' → 'f32'. */
export function precisionOfDType(dtype: string): SourcePrecision {
  const p = dtype.replace(/^DTYPE_/, '').toLowerCase();
  if (p in EPS) return p as SourcePrecision;
  throw new RangeError(`unknown dtype ${dtype}`);
}
