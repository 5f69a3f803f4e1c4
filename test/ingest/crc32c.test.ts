import { describe, expect, it } from 'vitest';
import { crc32c, crc32cPortable, hex32 } from '../../src/ingest/crc32c.js';
import { mulberry32 } from '../../src/random.js';

/** Bit-at-a-time reference (the definition, no tables) to hold the slicing-by-8 path against. */
function crc32cReference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

function randomBytes(seed: number, length: number): Uint8Array {
  const rng = mulberry32(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

describe('crc32c', () => {
  it('matches the published check values', () => {
    // RFC 3720 B.4 / the CRC catalogue: CRC-32C("123456789") = 0xE3069283; 32 zero bytes = 0x8A9136AA.
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    // RFC 3720 B.4: 32 bytes of 0xFF = 0x62A8AB43, ascending 0..31 = 0x46DD794E.
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('agrees with the bitwise definition for every length 0..64 and odd byte offsets', () => {
    const data = randomBytes(7, 200);
    for (let len = 0; len <= 64; len++) {
      for (const off of [0, 1, 3, 5]) {
        const view = data.subarray(off, off + len);
        const expected = crc32cReference(view);
        expect(crc32c(view)).toBe(expected);
        expect(crc32cPortable(view)).toBe(expected);
      }
    }
  });

  it('word path and byte path agree on a large buffer at every alignment', () => {
    const data = randomBytes(5, 70_000);
    for (const off of [0, 1, 2, 3, 4, 7]) {
      const view = data.subarray(off, off + 65_537);
      expect(crc32c(view)).toBe(crc32cPortable(view));
    }
    expect(crc32c(data.subarray(0, 4096))).toBe(crc32cReference(data.subarray(0, 4096)));
  });

  it('incremental equals one-shot at every split point', () => {
    const data = randomBytes(11, 97);
    const whole = crc32c(data);
    for (let split = 0; split <= data.length; split++) {
      expect(crc32c(data.subarray(split), crc32c(data.subarray(0, split)))).toBe(whole);
      expect(crc32cPortable(data.subarray(split), crc32cPortable(data.subarray(0, split)))).toBe(whole);
    }
  });

  it('is unsigned and formats as 8 hex digits', () => {
    const v = crc32c(new TextEncoder().encode('123456789'));
    expect(v).toBeGreaterThan(0x7fffffff);
    expect(hex32(v)).toBe('0xe3069283');
    expect(hex32(0x1f)).toBe('0x0000001f');
  });
});
