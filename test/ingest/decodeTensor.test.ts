import { describe, expect, it } from 'vitest';
import { Code, SidecarError } from '../../src/errors.js';
import { decodeTensor, decodeTensorPortable, dtypeSize } from '../../src/ingest/decodeTensor.js';
import { mulberry32 } from '../../src/random.js';

/** Little-endian bytes of 16-bit words. */
function words16(...ws: number[]): Uint8Array {
  const out = new Uint8Array(2 * ws.length);
  ws.forEach((w, i) => {
    out[2 * i] = w & 0xff;
    out[2 * i + 1] = w >>> 8;
  });
  return out;
}

function le32(values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setFloat32(4 * i, x, true));
  return out;
}

function le64(values: number[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setFloat64(8 * i, x, true));
  return out;
}

/** Copies `bytes` into a larger buffer at byte offset `shift`, to test unaligned views. */
function at(bytes: Uint8Array, shift: number): Uint8Array {
  const host = new Uint8Array(bytes.length + shift + 3);
  host.set(bytes, shift);
  return host.subarray(shift, shift + bytes.length);
}

function thrown(fn: () => unknown): SidecarError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SidecarError);
    return err as SidecarError;
  }
  throw new Error('expected a SidecarError');
}

describe('dtypeSize', () => {
  it('sizes every wire dtype, by name and by enum number', () => {
    expect([dtypeSize('DTYPE_F32'), dtypeSize('DTYPE_F64'), dtypeSize('DTYPE_F16'), dtypeSize('DTYPE_BF16')]).toEqual([4, 8, 2, 2]);
    expect([dtypeSize(1), dtypeSize(2), dtypeSize(3), dtypeSize(4)]).toEqual([4, 8, 2, 2]);
  });
  it('rejects DTYPE_UNSPECIFIED with INVALID_ARGUMENT', () => {
    const err = thrown(() => dtypeSize('DTYPE_UNSPECIFIED'));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.scope).toBe('snapshot');
    expect(err.message).toContain('DTYPE_UNSPECIFIED');
  });
});

describe('decodeTensor f16', () => {
  it('decodes the known binary16 bit patterns exactly', () => {
    const cases: Array<[number, number]> = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504], // largest finite
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x0400, 2 ** -14], // smallest normal
      [0x3555, 0.333251953125], // nearest half to 1/3
      [0x0000, 0],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    const out = decodeTensor(words16(...cases.map((c) => c[0])), 'DTYPE_F16');
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual(cases.map((c) => c[1]));
    const special = decodeTensor(words16(0x8000, 0x7e00, 0xfe01, 0x7c01), 'DTYPE_F16');
    expect(Object.is(special[0], -0)).toBe(true);
    expect([special[1], special[2], special[3]].every(Number.isNaN)).toBe(true);
  });

  it('matches the binary32 re-biasing of every normal half (independent derivation)', () => {
    // A normal half (s, e, m) is the binary32 with the same sign, exponent e - 15 + 127 and mantissa m << 13.
    const all = new Uint16Array(65536).map((_, i) => i);
    const out = decodeTensor(new Uint8Array(all.buffer), 'DTYPE_F16');
    const f32 = new Float32Array(1);
    const bits = new Uint32Array(f32.buffer);
    let checked = 0;
    for (let h = 0; h < 65536; h++) {
      const e = (h >>> 10) & 0x1f;
      if (e === 0 || e === 31) continue;
      bits[0] = ((h & 0x8000) << 16) | ((e - 15 + 127) << 23) | ((h & 0x3ff) << 13);
      if (out[h] !== f32[0]) throw new Error(`half 0x${h.toString(16)} decoded to ${out[h]}, expected ${f32[0]}`);
      checked++;
    }
    expect(checked).toBe(2 * 30 * 1024);
    // Subnormals: m · 2^-24 exactly.
    for (let m = 0; m < 1024; m++) expect(out[m]).toBe(m * 2 ** -24);
  });
});

describe('decodeTensor bf16', () => {
  it('decodes bfloat16 as the upper half of a binary32', () => {
    const out = decodeTensor(words16(0x3f80, 0xc000, 0x4049, 0x7f80, 0xff80, 0x8000, 0x0001), 'DTYPE_BF16');
    expect(out).toBeInstanceOf(Float32Array);
    // 0x4049 is π truncated to 8 significant bits: 3.140625.
    expect(Array.from(out.subarray(0, 5))).toEqual([1, -2, 3.140625, Infinity, -Infinity]);
    expect(Object.is(out[5], -0)).toBe(true);
    expect(out[6]).toBe(2 ** -133); // smallest bf16 subnormal = binary32 bit pattern 0x00010000
    expect(Number.isNaN(decodeTensor(words16(0x7fc0), 'DTYPE_BF16')[0])).toBe(true);
  });

  it('round-trips binary32 values whose low 16 bits are zero', () => {
    const rng = mulberry32(3);
    const src = new Float32Array(1000);
    const srcBits = new Uint32Array(src.buffer);
    const bf = new Uint16Array(1000);
    for (let i = 0; i < 1000; i++) {
      bf[i] = Math.floor(rng() * 65536) & 0x7f7f; // keep exponents below 0xff: finite values only
      srcBits[i] = bf[i] << 16;
    }
    expect(Array.from(decodeTensor(new Uint8Array(bf.buffer), 'DTYPE_BF16'))).toEqual(Array.from(src));
  });
});

describe('decodeTensor f32/f64', () => {
  const values = [1, -2.5, Math.PI, 1e-30, NaN, Infinity];

  it('returns a zero-copy view when the byte offset is aligned', () => {
    const bytes = le32(values);
    const out = decodeTensor(bytes, 'DTYPE_F32');
    expect(out.buffer).toBe(bytes.buffer);
    expect(Array.from(out)).toEqual(Array.from(new Float32Array(values)));
    const bytes64 = le64(values);
    const out64 = decodeTensor(bytes64, 'DTYPE_F64');
    expect(out64).toBeInstanceOf(Float64Array);
    expect(out64.buffer).toBe(bytes64.buffer);
    expect(Array.from(out64)).toEqual(values);
  });

  it('copies unaligned buffers and still decodes them exactly', () => {
    for (const shift of [1, 2, 3, 5]) {
      const b32 = at(le32(values), shift);
      const out32 = decodeTensor(b32, 'DTYPE_F32', values.length);
      expect(out32.buffer).not.toBe(b32.buffer);
      expect(Array.from(out32)).toEqual(Array.from(new Float32Array(values)));
      const out64 = decodeTensor(at(le64(values), shift), 'DTYPE_F64', values.length);
      expect(Array.from(out64)).toEqual(values);
      expect(Array.from(decodeTensor(at(words16(0x3f80, 0x4049), shift), 'DTYPE_BF16'))).toEqual([1, 3.140625]);
      expect(Array.from(decodeTensor(at(words16(0x3c00, 0x7bff), shift), 'DTYPE_F16'))).toEqual([1, 65504]);
    }
    // f64 at an offset that is 4- but not 8-aligned must copy too.
    const b = at(le64(values), 4);
    expect(decodeTensor(b, 'DTYPE_F64').buffer).not.toBe(b.buffer);
  });

  it('the portable (big-endian host) path agrees with the fast path', () => {
    const rng = mulberry32(9);
    const raw = new Uint8Array(8 * 257);
    for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(rng() * 256);
    for (const dtype of ['DTYPE_F32', 'DTYPE_F64', 'DTYPE_F16', 'DTYPE_BF16'] as const) {
      for (const shift of [0, 3]) {
        const bytes = at(raw, shift);
        // Compare bit patterns so NaN payloads count too.
        const fast = decodeTensor(bytes, dtype);
        const portable = decodeTensorPortable(bytes, dtype);
        expect(portable.constructor).toBe(fast.constructor);
        expect(new Uint8Array(portable.buffer, portable.byteOffset, portable.byteLength)).toEqual(
          new Uint8Array(fast.buffer, fast.byteOffset, fast.byteLength),
        );
      }
    }
  });
});

describe('decodeTensor errors', () => {
  it('rejects a length that is not a whole number of elements, with the numbers', () => {
    const err = thrown(() => decodeTensor(new Uint8Array(10), 'DTYPE_F32'));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toContain('10 bytes');
    expect(err.message).toContain('4-byte');
    expect(err.message).toContain('2 bytes left over');
    expect(thrown(() => decodeTensor(new Uint8Array(3), 'DTYPE_BF16')).code).toBe(Code.INVALID_ARGUMENT);
  });

  it('rejects a length that does not match the expected count, with both counts', () => {
    const err = thrown(() => decodeTensor(new Uint8Array(24), 'DTYPE_F64', 4));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(/24 bytes holds 3 elements, expected 4 \(32 bytes\)/);
    expect(thrown(() => decodeTensor(new Uint8Array(8), 'DTYPE_UNSPECIFIED')).code).toBe(Code.INVALID_ARGUMENT);
  });

  it('accepts an empty tensor when zero elements are expected', () => {
    expect(decodeTensor(new Uint8Array(0), 'DTYPE_F16', 0).length).toBe(0);
  });
});
