/**
 * Decoding of bulk tensor bytes (TensorChunk.data, Tensor.data). The wire is little-endian in the DType named
 * next to the bytes (sidecar.proto). f32/f64 come back as views when possible; f16/bf16 widen to f32, which
 * holds every half and bfloat16 value exactly, so nothing is rounded here (float64 accumulation happens in
 * src/kernel, docs/science.md A0).
 */
import { Code, snapshotError } from '../errors.js';
import type { DType } from '../gen/ntksidecar/v1/DType.js';

/** Element size in bytes of a wire dtype. Accepts the string names and the enum numbers. */
export function dtypeSize(dtype: DType): 2 | 4 | 8 {
  switch (dtype) {
    case 'DTYPE_F32':
    case 1:
      return 4;
    case 'DTYPE_F64':
    case 2:
      return 8;
    case 'DTYPE_F16':
    case 3:
    case 'DTYPE_BF16':
    case 4:
      return 2;
    default:
      throw snapshotError(
        Code.INVALID_ARGUMENT,
        `dtype ${String(dtype)} has no element size; set dtype to DTYPE_F32, DTYPE_F64, DTYPE_F16 or DTYPE_BF16`,
      );
  }
}

/** True on little-endian hosts (every platform Node ships on today); detected once. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes `bytes` holding little-endian elements of `dtype`. `count`, when given, is the expected element count.
 *
 * F32/F64 return a zero-copy view of `bytes` when its byteOffset is aligned to the element size (the caller must
 * then not reuse the buffer while the view is alive), a copy otherwise. F16/BF16 return a new Float32Array.
 * Throws SidecarError INVALID_ARGUMENT (snapshot scope) on a length that is not a whole number of elements or
 * does not match `count`.
 */
export function decodeTensor(bytes: Uint8Array, dtype: 'DTYPE_F64' | 2, count?: number): Float64Array;
export function decodeTensor(
  bytes: Uint8Array,
  dtype: 'DTYPE_F32' | 1 | 'DTYPE_F16' | 3 | 'DTYPE_BF16' | 4,
  count?: number,
): Float32Array;
export function decodeTensor(bytes: Uint8Array, dtype: DType, count?: number): Float32Array | Float64Array;
export function decodeTensor(bytes: Uint8Array, dtype: DType, count?: number): Float32Array | Float64Array {
  const n = elementCount(bytes, dtype, count);
  if (!HOST_LITTLE_ENDIAN) return decodePortable(bytes, dtype, n);
  switch (dtype) {
    case 'DTYPE_F32':
    case 1:
      return bytes.byteOffset % 4 === 0
        ? new Float32Array(bytes.buffer, bytes.byteOffset, n)
        : new Float32Array(copyBytes(bytes).buffer, 0, n);
    case 'DTYPE_F64':
    case 2:
      return bytes.byteOffset % 8 === 0
        ? new Float64Array(bytes.buffer, bytes.byteOffset, n)
        : new Float64Array(copyBytes(bytes).buffer, 0, n);
    case 'DTYPE_F16':
    case 3:
      return decodeF16(bytes, n);
    default:
      return decodeBf16(bytes, n);
  }
}

/**
 * Endian-independent decoder (DataView reads with littleEndian = true): what decodeTensor uses on a big-endian
 * host. Always copies. Exported so tests can hold it against the fast path on the little-endian machines we have.
 */
export function decodeTensorPortable(bytes: Uint8Array, dtype: DType, count?: number): Float32Array | Float64Array {
  return decodePortable(bytes, dtype, elementCount(bytes, dtype, count));
}

function elementCount(bytes: Uint8Array, dtype: DType, count: number | undefined): number {
  const size = dtypeSize(dtype);
  const len = bytes.length;
  if (len % size !== 0) {
    throw snapshotError(
      Code.INVALID_ARGUMENT,
      `${dtypeName(dtype)} data of ${len} bytes is not a whole number of ${size}-byte elements ` +
        `(${len % size} bytes left over); send rows*cols*${size} bytes`,
    );
  }
  const n = len / size;
  if (count !== undefined && n !== count) {
    throw snapshotError(
      Code.INVALID_ARGUMENT,
      `${dtypeName(dtype)} data of ${len} bytes holds ${n} elements, expected ${count} (${count * size} bytes)`,
    );
  }
  return n;
}

function decodePortable(bytes: Uint8Array, dtype: DType, n: number): Float32Array | Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'DTYPE_F32':
    case 1: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case 'DTYPE_F64':
    case 2: {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    // f16/bf16 below assemble each 16-bit word from two bytes, which is already endian-independent.
    case 'DTYPE_F16':
    case 3:
      return decodeF16(bytes, n);
    default:
      return decodeBf16(bytes, n);
  }
}

/** A fresh, 0-offset copy. Not `bytes.slice()`: on a Node Buffer, slice is a view, not a copy. */
function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

let halfTable: Float32Array | null = null;

/**
 * Value of every binary16 bit pattern (256 KiB, built on first use): sign s, exponent e (5 bits, bias 15),
 * mantissa m (10 bits). e = 0: subnormal ±m·2^-24; e = 31: ±Inf (m = 0) or NaN; otherwise ±(1024 + m)·2^(e-25).
 */
function halfValues(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m === 0 ? sign * Infinity : NaN) : sign * (1024 + m) * 2 ** (e - 25);
  }
  halfTable = t;
  return t;
}

function decodeF16(bytes: Uint8Array, n: number): Float32Array {
  const table = halfValues();
  const out = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = table[bytes[j] | (bytes[j + 1] << 8)];
  return out;
}

/** bfloat16 is the upper half of a binary32: shift the 16 bits up and reinterpret (keeps NaN payloads, ±Inf, -0). */
function decodeBf16(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0, j = 0; i < n; i++, j += 2) bits[i] = ((bytes[j] | (bytes[j + 1] << 8)) << 16) >>> 0;
  return out;
}

function dtypeName(dtype: DType): string {
  switch (dtype) {
    case 1:
      return 'DTYPE_F32';
    case 2:
      return 'DTYPE_F64';
    case 3:
      return 'DTYPE_F16';
    case 4:
      return 'DTYPE_BF16';
    default:
      return String(dtype);
  }
}
