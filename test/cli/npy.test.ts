import { describe, expect, it } from 'vitest';
import { encodeNpy, halfToNumber, numberToHalf, parseNpy } from '../../src/cli/npy.js';
import type { NpyDescr } from '../../src/cli/npy.js';
import { mulberry32, normalArray } from '../../src/random.js';

// Files written by numpy 2.4.6 (np.lib.format.write_array) from
// x = [[1.5, -2, 3], [4, 5.25, -6e-3]]; they check the reader against the real format, not our writer.
const numpyFiles = {
  f8: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4PwAAAAAAAADAAAAAAAAACEAAAAAAAAAQQAAAAAAAABVA+n5qvHSTeL8=',
  // x.astype('>f4') in Fortran order
  f4FortranBig:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPmY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/wAAAQIAAAMAAAABAqAAAQEAAALvEm6Y=',
  f2: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGYyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAPgDAAEIAREBFJZ4=',
  v2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4PwAAAAAAAADAAAAAAAAACEAAAAAAAAAQQAAAAAAAABVA+n5qvHSTeL8=',
  v3: 'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4PwAAAAAAAADAAAAAAAAACEAAAAAAAAAQQAAAAAAAABVA+n5qvHSTeL8=',
  u1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAQI=',
  f4vector: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEA=',
};
const x = [1.5, -2, 3, 4, 5.25, -6e-3];
const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

describe('parseNpy on files written by numpy', () => {
  it('reads float64 v1.0, v2.0 and v3.0 exactly', () => {
    for (const [key, version] of [
      ['f8', '1.0'],
      ['v2', '2.0'],
      ['v3', '3.0'],
    ] as const) {
      const a = parseNpy(fromB64(numpyFiles[key]));
      expect(a.version).toBe(version);
      expect(a.shape).toEqual([2, 3]);
      expect(a.descr).toBe('<f8');
      expect(a.dtype).toBe('float64');
      expect(a.data).toBeInstanceOf(Float64Array);
      expect(Array.from(a.data)).toEqual(x);
    }
  });

  it('reads big-endian float32 in Fortran order as row-major float32 values', () => {
    const a = parseNpy(fromB64(numpyFiles.f4FortranBig));
    expect(a.fortranOrder).toBe(true);
    expect(a.descr).toBe('>f4');
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(Array.from(a.data)).toEqual(x.map((v) => Math.fround(v)));
  });

  it('reads float16 exactly (-6e-3 is stored as the half 0x9e25 = -1573/2^18)', () => {
    const a = parseNpy(fromB64(numpyFiles.f2));
    expect(a.dtype).toBe('float16');
    expect(Array.from(a.data)).toEqual([1.5, -2, 3, 4, 5.25, -1573 / 2 ** 18]);
  });

  it('reads a 1-D float32 vector', () => {
    const a = parseNpy(fromB64(numpyFiles.f4vector));
    expect(a.shape).toEqual([3]);
    expect(Array.from(a.data)).toEqual([0, 1, 2]);
  });

  it('rejects integer dtypes with a hint to convert', () => {
    expect(() => parseNpy(fromB64(numpyFiles.u1))).toThrow(/unsupported dtype '\|u1'.*astype\(numpy\.float64\)/);
  });

  it('our writer produces numpy-identical bytes for the float64 and float16 files', () => {
    expect(encodeNpy([2, 3], new Float64Array(x))).toEqual(fromB64(numpyFiles.f8));
    expect(encodeNpy([2, 3], new Float64Array(x), { descr: '<f2' })).toEqual(fromB64(numpyFiles.f2));
    expect(encodeNpy([2, 3], new Float64Array(x), { descr: '>f4', fortranOrder: true })).toEqual(
      fromB64(numpyFiles.f4FortranBig),
    );
    expect(encodeNpy([2, 3], new Float64Array(x), { version: 2 })).toEqual(fromB64(numpyFiles.v2));
  });
});

describe('encodeNpy → parseNpy round trip', () => {
  const rows = 7;
  const cols = 5;
  const values = normalArray(mulberry32(11), rows * cols);
  const cases: { descr: NpyDescr; fortranOrder: boolean; version: 1 | 2 | 3 }[] = [];
  for (const descr of ['<f2', '>f2', '<f4', '>f4', '<f8', '>f8'] as const)
    for (const fortranOrder of [false, true]) for (const version of [1, 2, 3] as const)
      cases.push({ descr, fortranOrder, version });

  it.each(cases)('$descr fortran=$fortranOrder v$version', ({ descr, fortranOrder, version }) => {
    const bytes = encodeNpy([rows, cols], values, { descr, fortranOrder, version });
    expect((bytes.length - rows * cols * Number(descr[2])) % 64).toBe(0); // data on a 64-byte boundary
    const a = parseNpy(bytes);
    expect(a.shape).toEqual([rows, cols]);
    expect(a.version).toBe(`${version}.0`);
    expect(a.fortranOrder).toBe(fortranOrder);
    // Exact: the stored value is the input rounded once to the stored precision.
    const rounded = Array.from(values, (v) =>
      descr[2] === '8' ? v : descr[2] === '4' ? Math.fround(v) : halfToNumber(numberToHalf(v)),
    );
    expect(Array.from(a.data)).toEqual(rounded);
  });

  it('transposes a 3-D Fortran-order array into row-major order', () => {
    // Build the Fortran layout by hand: element (i, j, k) of shape (2, 3, 4) sits at i + 2j + 6k.
    const shape = [2, 3, 4];
    const rowMajor = new Float64Array(24).map((_, r) => r);
    const fortranValues = new Float64Array(24);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) fortranValues[i + 2 * j + 6 * k] = rowMajor[i * 12 + j * 4 + k];
    const bytes = encodeNpy(shape, fortranValues);
    const header = new TextDecoder().decode(bytes.subarray(10, 128)).replace("'fortran_order': False", "'fortran_order': True ");
    bytes.set(new TextEncoder().encode(header), 10);
    const a = parseNpy(bytes);
    expect(a.shape).toEqual(shape);
    expect(Array.from(a.data)).toEqual(Array.from(rowMajor));
  });

  it('reads data at an unaligned byte offset (copy path) and shares memory when aligned', () => {
    const bytes = encodeNpy([3, 2], new Float64Array([1, 2, 3, 4, 5, 6]));
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(Array.from(parseNpy(shifted.subarray(3)).data)).toEqual([1, 2, 3, 4, 5, 6]);
    const aligned = parseNpy(bytes);
    expect(aligned.data.buffer).toBe(bytes.buffer);
  });
});

describe('half-precision conversion', () => {
  it('rounds to nearest even and handles the extremes', () => {
    expect(numberToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even mantissa 0
    expect(numberToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even mantissa 2
    expect(numberToHalf(65504)).toBe(0x7bff);
    expect(numberToHalf(65520)).toBe(0x7c00);
    expect(numberToHalf(2 ** -24)).toBe(0x0001);
    expect(numberToHalf(2 ** -25)).toBe(0x0000); // tie → 0
    expect(numberToHalf(-0)).toBe(0x8000);
    expect(halfToNumber(0x7c00)).toBe(Infinity);
    expect(halfToNumber(0x7e00)).toBeNaN();
    expect(halfToNumber(0x0400)).toBe(2 ** -14);
  });

  it('all 63 488 finite halves survive number → half → number', () => {
    const mismatches: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) !== 0x7c00 && numberToHalf(halfToNumber(h)) !== h) mismatches.push(h);
    }
    expect(mismatches).toEqual([]);
  });
});

describe('parseNpy errors name the numbers', () => {
  const good = encodeNpy([4, 4], new Float64Array(16));

  it('bad magic', () => {
    const bad = good.slice();
    bad[0] = 0x50;
    expect(() => parseNpy(bad)).toThrow(/expected magic bytes 93 4e 55 4d 50 59.*got 50 4e 55 4d 50 59/);
    expect(() => parseNpy(new Uint8Array(0))).toThrow(/got nothing.*0 bytes/);
  });

  it('truncated data: expected vs actual bytes', () => {
    expect(() => parseNpy(good.subarray(0, good.length - 8))).toThrow(
      /truncated \.npy data: shape \(4, 4\) of <f8 needs 16 × 8 = 128 bytes after the 128-byte header, the file has 120/,
    );
  });

  it('truncated header', () => {
    expect(() => parseNpy(good.subarray(0, 50))).toThrow(/declares 118 header bytes.*only 50 bytes/);
  });

  it('trailing bytes', () => {
    const longer = new Uint8Array(good.length + 8);
    longer.set(good);
    expect(() => parseNpy(longer)).toThrow(/longer than its header says.*the file has 136/);
  });

  it('unsupported version', () => {
    const bad = good.slice();
    bad[6] = 4;
    expect(() => parseNpy(bad)).toThrow(/version 4\.0/);
  });
});
