/**
 * NumPy `.npy` reader and writer for the `analyze` command (format versions 1.0, 2.0 and 3.0,
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
 *
 * Layout: magic `\x93NUMPY`, major and minor version bytes, header length (uint16 LE for 1.x, uint32 LE
 * for 2.x/3.x), then a Python dict literal `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }`
 * padded with spaces and a newline so the data starts on a 64-byte boundary, then the raw data.
 * Only real floating-point dtypes are accepted: the analysis works on Jacobians, sketches and Grams.
 * bfloat16 is not a NumPy dtype (it has no `descr`), so it cannot appear here.
 */

export type NpyDescr = '<f2' | '>f2' | '<f4' | '>f4' | '<f8' | '>f8';

export interface NpyArray {
  /** Dimensions, C (row-major) order, as in the header. */
  shape: number[];
  /**
   * Row-major values. float64 files give a Float64Array; float32 and float16 files a Float32Array
   * (every half value is exactly representable in float32). May share memory with the input bytes
   * when the file is little-endian, C-ordered and aligned (no copy of a large Jacobian).
   */
  data: Float64Array | Float32Array;
  /** The header's `descr`, e.g. `<f4`. */
  descr: NpyDescr;
  /** Precision the values were stored in (what the numerical tolerance must assume). */
  dtype: 'float16' | 'float32' | 'float64';
  /** True when the file was stored in Fortran (column-major) order; `data` is row-major regardless. */
  fortranOrder: boolean;
  /** Format version, e.g. `1.0`. */
  version: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Parse a whole `.npy` file. Pure: no I/O; throws an Error that names the numbers on bad input. */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    const got = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(
      `not a .npy file: expected magic bytes 93 4e 55 4d 50 59 ("\\x93NUMPY"), got ${got || 'nothing'} ` +
        `(file is ${bytes.length} bytes; save arrays with numpy.save)`,
    );
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3) {
    throw new Error(`unsupported .npy format version ${major}.${minor}: this reader handles 1.0, 2.0 and 3.0`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  const preamble = 8 + lenBytes;
  if (bytes.length < preamble) {
    throw new Error(`truncated .npy header: file is ${bytes.length} bytes, the preamble alone needs ${preamble}`);
  }
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = preamble + headerLen;
  if (bytes.length < dataStart) {
    throw new Error(
      `truncated .npy header: it declares ${headerLen} header bytes (data at byte ${dataStart}) ` +
        `but the file is only ${bytes.length} bytes`,
    );
  }
  // 1.0 and 2.0 headers are latin-1 (in practice ASCII); 3.0 allows UTF-8.
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(preamble, dataStart));
  const { descr, fortranOrder, shape } = parseHeader(header);

  const itemBytes = Number(descr[2]);
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * itemBytes;
  const actual = bytes.length - dataStart;
  if (actual !== expected) {
    const what = actual < expected ? 'truncated .npy data' : '.npy data longer than its header says';
    throw new Error(
      `${what}: shape (${shape.join(', ')}) of ${descr} needs ${count} × ${itemBytes} = ${expected} bytes ` +
        `after the ${dataStart}-byte header, the file has ${actual}` +
        (actual > expected ? ' (several arrays saved into one file? save one array per file)' : ''),
    );
  }

  const flat = decodeValues(bytes, dataStart, count, descr);
  const data = fortranOrder && shape.length > 1 ? fortranToRowMajor(flat, shape) : flat;
  const dtype = itemBytes === 2 ? 'float16' : itemBytes === 4 ? 'float32' : 'float64';
  return { shape, data, descr, dtype, fortranOrder, version: `${major}.${minor}` };
}

function parseHeader(header: string): { descr: NpyDescr; fortranOrder: boolean; shape: number[] } {
  const descrMatch = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(header);
  if (!descrMatch) {
    const structured = /['"]descr['"]\s*:\s*\[/.test(header);
    throw new Error(
      structured
        ? `structured (record) dtypes are not supported: save a plain float array (header ${header.trim()})`
        : `.npy header has no 'descr' entry: ${header.trim()}`,
    );
  }
  const raw = descrMatch[2];
  // '=' (native) never appears in files numpy writes, but other writers use it; hosts are little-endian.
  const descr = (raw.startsWith('=') ? `<${raw.slice(1)}` : raw) as NpyDescr;
  if (!['<f2', '>f2', '<f4', '>f4', '<f8', '>f8'].includes(descr)) {
    throw new Error(
      `unsupported dtype '${raw}': analyze reads float16/float32/float64 arrays (<f2, <f4, <f8 or big-endian >f…); ` +
        `convert with arr.astype(numpy.float64) before saving` +
        (/^[<>|=]?[iub]/.test(raw) ? ' (integer and boolean arrays are not Jacobians or Grams)' : '') +
        (/^[<>|=]?c/.test(raw) ? ' (complex arrays are not supported)' : ''),
    );
  }
  const fortranMatch = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  if (!fortranMatch) throw new Error(`.npy header has no 'fortran_order' True/False entry: ${header.trim()}`);
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shapeMatch) throw new Error(`.npy header has no 'shape' tuple: ${header.trim()}`);
  const shape = shapeMatch[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      // Python 2 numpy wrote longs as `3L`.
      const m = /^(\d+)L?$/.exec(s);
      if (!m) throw new Error(`.npy header shape entry '${s}' is not a non-negative integer: ${header.trim()}`);
      return Number(m[1]);
    });
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count * 8)) throw new Error(`.npy shape (${shape.join(', ')}) is too large`);
  return { descr, fortranOrder: fortranMatch[1] === 'True', shape };
}

function decodeValues(bytes: Uint8Array, start: number, count: number, descr: NpyDescr): Float64Array | Float32Array {
  const little = descr[0] === '<';
  const itemBytes = Number(descr[2]);
  const absStart = bytes.byteOffset + start;
  if (itemBytes === 8 || itemBytes === 4) {
    const Ctor = itemBytes === 8 ? Float64Array : Float32Array;
    if (little && littleEndianHost) {
      // Native layout: view in place when aligned, else one memcpy into a fresh (aligned) buffer.
      if (absStart % itemBytes === 0) {
        return itemBytes === 8
          ? new Float64Array(bytes.buffer, absStart, count)
          : new Float32Array(bytes.buffer, absStart, count);
      }
      const copy = new Uint8Array(count * itemBytes);
      copy.set(bytes.subarray(start, start + count * itemBytes));
      return new Ctor(copy.buffer);
    }
    const out = new Ctor(count);
    const view = new DataView(bytes.buffer, absStart, count * itemBytes);
    if (itemBytes === 8) for (let k = 0; k < count; k++) out[k] = view.getFloat64(k * 8, little);
    else for (let k = 0; k < count; k++) out[k] = view.getFloat32(k * 4, little);
    return out;
  }
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, absStart, count * 2);
  for (let k = 0; k < count; k++) out[k] = halfToNumber(view.getUint16(k * 2, little));
  return out;
}

/** Reorder column-major (Fortran) values into row-major order for any number of dimensions. */
function fortranToRowMajor<T extends Float64Array | Float32Array>(src: T, shape: number[]): T {
  const out = new (src.constructor as new (n: number) => T)(src.length);
  if (shape.length === 2) {
    const [rows, cols] = shape;
    // Read the source sequentially (column by column); writes stride by `cols`.
    for (let j = 0; j < cols; j++) {
      const base = j * rows;
      for (let i = 0; i < rows; i++) out[i * cols + j] = src[base + i];
    }
    return out;
  }
  // General case: walk the row-major index like an odometer and track the Fortran offset.
  const d = shape.length;
  const fStride = new Array<number>(d);
  let s = 1;
  for (let k = 0; k < d; k++) {
    fStride[k] = s;
    s *= shape[k];
  }
  const idx = new Array<number>(d).fill(0);
  let fOff = 0;
  for (let r = 0; r < src.length; r++) {
    out[r] = src[fOff];
    for (let k = d - 1; k >= 0; k--) {
      idx[k]++;
      fOff += fStride[k];
      if (idx[k] < shape[k]) break;
      fOff -= fStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** IEEE 754 binary16 bits → number (exact). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** number → IEEE 754 binary16 bits, rounding to nearest, ties to even (as numpy's astype does). */
export function numberToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // 65520 is halfway between the largest half (65504) and 2^16: ties to even round it up to infinity.
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal; 1024 carries into the smallest normal
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e + 15 >= 0x1f) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

function roundHalfEven(y: number): number {
  const f = Math.floor(y);
  const d = y - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export interface EncodeNpyOptions {
  /** Stored dtype; default `<f8` for a Float64Array and `<f4` for a Float32Array. */
  descr?: NpyDescr;
  /** Store column-major (the values given are still row-major). */
  fortranOrder?: boolean;
  /** Format version; default 1 (2 when the header would not fit a uint16 length). */
  version?: 1 | 2 | 3;
}

/**
 * Write a `.npy` file from row-major values (fixtures for tests and for users of the TS client).
 * The header is padded so the data starts on a 64-byte boundary, as numpy does.
 */
export function encodeNpy(
  shape: readonly number[],
  data: Float64Array | Float32Array,
  options: EncodeNpyOptions = {},
): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 0) || count !== data.length) {
    throw new Error(`encodeNpy: shape (${shape.join(', ')}) holds ${count} values, data has ${data.length}`);
  }
  const descr = options.descr ?? (data instanceof Float64Array ? '<f8' : '<f4');
  const fortran = options.fortranOrder ?? false;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  let version = options.version ?? 1;
  const lenBytesFor = (v: number): number => (v === 1 ? 2 : 4);
  const pad = (v: number): number => {
    const unpadded = 8 + lenBytesFor(v) + dict.length + 1; // + the trailing newline
    return (64 - (unpadded % 64)) % 64;
  };
  if (version === 1 && dict.length + pad(1) + 1 > 0xffff) version = 2;
  const headerText = dict + ' '.repeat(pad(version)) + '\n';
  const headerBytes = new TextEncoder().encode(headerText);
  const lenBytes = lenBytesFor(version);
  const itemBytes = Number(descr[2]);
  const dataStart = 8 + lenBytes + headerBytes.length;
  const out = new Uint8Array(dataStart + count * itemBytes);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (lenBytes === 2) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 8 + lenBytes);

  const little = descr[0] === '<';
  const rows = shape.length === 2 ? shape[0] : 0;
  const cols = shape.length === 2 ? shape[1] : 0;
  for (let k = 0; k < count; k++) {
    // Value stored at file position k: in Fortran order position k holds element (k % rows, ⌊k / rows⌋).
    let v: number;
    if (fortran && shape.length === 2) v = data[(k % rows) * cols + Math.floor(k / rows)];
    else if (fortran && shape.length > 2) throw new Error('encodeNpy: Fortran order is only written for 2-D arrays');
    else v = data[k];
    const at = dataStart + k * itemBytes;
    if (itemBytes === 8) view.setFloat64(at, v, little);
    else if (itemBytes === 4) view.setFloat32(at, v, little);
    else view.setUint16(at, numberToHalf(v), little);
  }
  return out;
}
