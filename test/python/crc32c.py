"""CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as in TensorChunk.crc32c.

`crc32c(data)` is numpy-vectorised: the CRC register update is linear over GF(2), so
    raw(r, d1 || d2) = A^{len d2} raw(r, d1)  XOR  raw(0, d2)
where raw(r, d) runs the table-driven loop from register r with no final XOR and A is the "one zero
byte" operator. The data is cut into S segments of L bytes whose raw(0, .) values are computed side by
side (one numpy step per byte position), then folded with the shift-by-L operator. Leading zero bytes
leave raw(0, .) unchanged, so the data is left-padded to a multiple of L. About 30 ms per 4 MiB here,
against ~2 s for the pure-Python byte loop (`crc32c_reference`, kept as the oracle).
"""

from __future__ import annotations

import numpy as np

POLY = 0x82F63B78
_MASK = 0xFFFFFFFF


def _make_table() -> list[int]:
    table = []
    for byte in range(256):
        reg = byte
        for _ in range(8):
            reg = (reg >> 1) ^ (POLY if reg & 1 else 0)
        table.append(reg)
    return table


TABLE = _make_table()
_TABLE_NP = np.array(TABLE, dtype=np.uint32)


def crc32c_reference(data: bytes, crc: int = 0) -> int:
    """Byte-at-a-time table CRC-32C; `crc` continues a previous result (0 to start)."""
    reg = crc ^ _MASK
    for b in data:
        reg = TABLE[(reg ^ b) & 0xFF] ^ (reg >> 8)
    return reg ^ _MASK


# --- GF(2) operators on the 32-bit register, stored as the images of the 32 unit vectors ---------------

def _apply(op: list[int], value: int) -> int:
    out = 0
    bit = 0
    while value:
        if value & 1:
            out ^= op[bit]
        value >>= 1
        bit += 1
    return out


def _compose(outer: list[int], inner: list[int]) -> list[int]:
    return [_apply(outer, image) for image in inner]


# One zero byte through the raw loop: reg -> TABLE[reg & 0xFF] ^ (reg >> 8).
_ONE_BYTE = [TABLE[(1 << b) & 0xFF] ^ ((1 << b) >> 8) for b in range(32)]
# _POW2[k] shifts the register by 2^k zero bytes.
_POW2 = [_ONE_BYTE]
for _ in range(47):
    _POW2.append(_compose(_POW2[-1], _POW2[-1]))


def _shift(value: int, nbytes: int) -> int:
    k = 0
    while nbytes:
        if nbytes & 1:
            value = _apply(_POW2[k], value)
        nbytes >>= 1
        k += 1
    return value


def _shift_operator(nbytes: int) -> list[int]:
    return [_shift(1 << b, nbytes) for b in range(32)]


def _byte_tables(op: list[int]) -> list[list[int]]:
    """Four 256-entry tables so that op(v) = t0[v&255] ^ t1[(v>>8)&255] ^ t2[...] ^ t3[v>>24]."""
    tables = []
    for k in range(4):
        t = [0] * 256
        for v in range(1, 256):
            low = v & -v
            t[v] = t[v ^ low] ^ op[8 * k + low.bit_length() - 1]
        tables.append(t)
    return tables


_SEGMENT = 1024
_SEGMENT_TABLES = _byte_tables(_shift_operator(_SEGMENT))


def crc32c(data: bytes | bytearray | memoryview | np.ndarray) -> int:
    """CRC-32C of the bytes of `data` (an ndarray is taken as its raw C-order bytes)."""
    if isinstance(data, np.ndarray):
        buf = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    else:
        buf = np.frombuffer(data, dtype=np.uint8)
    n = buf.size
    if n < 8 * _SEGMENT:
        return crc32c_reference(buf.tobytes())
    segments = -(-n // _SEGMENT)
    padded = np.zeros(segments * _SEGMENT, dtype=np.uint8)
    padded[segments * _SEGMENT - n:] = buf
    # Row j holds byte j of every segment, so each step reads contiguous memory.
    columns = np.ascontiguousarray(padded.reshape(segments, _SEGMENT).T)
    reg = np.zeros(segments, dtype=np.uint32)
    table = _TABLE_NP
    for row in columns:
        reg = table[(reg ^ row) & 0xFF] ^ (reg >> 8)
    t0, t1, t2, t3 = _SEGMENT_TABLES
    acc = 0
    for r in reg.tolist():
        acc = t0[acc & 0xFF] ^ t1[(acc >> 8) & 0xFF] ^ t2[(acc >> 16) & 0xFF] ^ t3[acc >> 24] ^ r
    # The initial register 0xFFFFFFFF travels through all n bytes; then the final XOR.
    return (_shift(_MASK, n) ^ acc) ^ _MASK


# RFC 3720 (iSCSI) appendix B.4 test vectors, plus the usual "123456789" check value.
KNOWN_VECTORS: list[tuple[bytes, int]] = [
    (b"123456789", 0xE3069283),
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
]


def self_test(seed: int = 7) -> dict[str, object]:
    """Known vectors and vectorised-vs-byte-loop agreement on random data of awkward lengths."""
    for data, want in KNOWN_VECTORS:
        for impl in (crc32c_reference, crc32c):
            got = impl(data)
            if got != want:
                raise AssertionError(f"{impl.__name__}({data[:12]!r}...) = {got:#010x}, want {want:#010x}")
    rng = np.random.default_rng(seed)
    lengths = [0, 1, 8 * _SEGMENT - 1, 8 * _SEGMENT, 8 * _SEGMENT + 1, 3 * 8 * _SEGMENT + 517, 65536]
    for length in lengths:
        data = rng.integers(0, 256, size=length, dtype=np.uint8).tobytes()
        want = crc32c_reference(data)
        got = crc32c(data)
        if got != want:
            raise AssertionError(f"crc32c on {length} random bytes = {got:#010x}, byte loop says {want:#010x}")
    return {"known_vectors": len(KNOWN_VECTORS), "random_lengths": lengths}
