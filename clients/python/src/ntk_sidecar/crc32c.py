"""CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) for TensorChunk.crc32c, vectorised with numpy.

The register update is linear over GF(2): with raw(r, d) the table loop from register r and no final XOR,
    raw(r, d1 || d2) = shift_{|d2|}(raw(r, d1)) XOR raw(0, d2),
and leading zero bytes leave raw(0, .) unchanged. So the data is left-padded to a power-of-two number S of
64-byte segments; the S values raw(0, segment) are computed side by side (slicing-by-4: 16 numpy steps, one per
4-byte word, all segments at once), then folded pairwise in log2(S) vectorised levels (left half shifted by the
right half's length, XOR the right half). The initial register 0xFFFFFFFF contributes shift_n(0xFFFFFFFF).
Few, wide numpy operations keep it cheap for the small chunks of a Gram (~1 ms per 200 KiB) as well as for
4 MiB ones. `crc32c_bytewise` is the plain byte loop, kept as the oracle.
"""

from __future__ import annotations

import numpy as np

POLY = 0x82F63B78
_MASK = 0xFFFFFFFF


def _tables() -> np.ndarray:
    t = np.zeros((4, 256), dtype=np.uint32)
    for byte in range(256):
        reg = byte
        for _ in range(8):
            reg = (reg >> 1) ^ (POLY if reg & 1 else 0)
        t[0, byte] = reg
    for k in range(1, 4):
        t[k] = (t[k - 1] >> np.uint32(8)) ^ t[0][t[k - 1] & np.uint32(0xFF)]
    return t


_T = _tables()
_T0 = [int(v) for v in _T[0]]


def crc32c_bytewise(data: bytes, crc: int = 0) -> int:
    """Byte-at-a-time CRC-32C; `crc` continues a previous result (0 to start)."""
    reg = crc ^ _MASK
    for b in data:
        reg = _T0[(reg ^ b) & 0xFF] ^ (reg >> 8)
    return reg ^ _MASK


# GF(2) operators on the 32-bit register, as the images of the 32 unit vectors.
def _apply(op: list[int], value: int) -> int:
    out = 0
    bit = 0
    while value:
        if value & 1:
            out ^= op[bit]
        value >>= 1
        bit += 1
    return out


_ZERO_BYTE = [_T0[(1 << b) & 0xFF] ^ ((1 << b) >> 8) for b in range(32)]
_POW2 = [_ZERO_BYTE]  # _POW2[k]: shift by 2^k zero bytes
for _ in range(47):
    _POW2.append([_apply(_POW2[-1], image) for image in _POW2[-1]])


def _shift(value: int, nbytes: int) -> int:
    k = 0
    while nbytes:
        if nbytes & 1:
            value = _apply(_POW2[k], value)
        nbytes >>= 1
        k += 1
    return value


def _byte_tables(op: list[int]) -> list[list[int]]:
    """op(v) = t[0][v & 255] ^ t[1][(v >> 8) & 255] ^ t[2][(v >> 16) & 255] ^ t[3][v >> 24]."""
    out = []
    for k in range(4):
        t = [0] * 256
        for v in range(1, 256):
            low = v & -v
            t[v] = t[v ^ low] ^ op[8 * k + low.bit_length() - 1]
        out.append(t)
    return out


_SEGMENT = 64  # bytes per lane; a multiple of 4
_SHIFT_TABLES: dict[int, np.ndarray] = {}


def _shift_tables(nbytes: int) -> np.ndarray:
    """(4, 256) uint32 byte tables of "shift by nbytes zero bytes", cached per length."""
    tables = _SHIFT_TABLES.get(nbytes)
    if tables is None:
        tables = np.array(_byte_tables([_shift(1 << b, nbytes) for b in range(32)]), dtype=np.uint32)
        _SHIFT_TABLES[nbytes] = tables
    return tables


def _apply_tables(tables: np.ndarray, v: np.ndarray) -> np.ndarray:
    m8 = np.uint32(0xFF)
    return (tables[0][v & m8] ^ tables[1][(v >> np.uint32(8)) & m8] ^ tables[2][(v >> np.uint32(16)) & m8]
            ^ tables[3][v >> np.uint32(24)])


def crc32c(data: bytes | bytearray | memoryview | np.ndarray) -> int:
    """CRC-32C of the bytes of `data` (an ndarray counts as its raw C-order bytes)."""
    if isinstance(data, np.ndarray):
        buf = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    else:
        buf = np.frombuffer(data, dtype=np.uint8)
    n = buf.size
    if n < 4 * _SEGMENT:
        return crc32c_bytewise(buf.tobytes())
    segments = 1 << (-(-n // _SEGMENT) - 1).bit_length()  # next power of two
    padded = np.zeros(segments * _SEGMENT, dtype=np.uint8)
    padded[segments * _SEGMENT - n:] = buf
    # words[j] = little-endian word j of every segment: contiguous per step.
    words = np.ascontiguousarray(padded.view("<u4").reshape(segments, _SEGMENT // 4).T)
    reg = np.zeros(segments, dtype=np.uint32)
    t = _T[::-1]  # slicing-by-4 reads the lowest byte through the table of the longest shift
    for word in words:
        reg ^= word
        reg = _apply_tables(t, reg)
    length = _SEGMENT
    while reg.size > 1:
        pairs = reg.reshape(-1, 2)
        reg = _apply_tables(_shift_tables(length), pairs[:, 0]) ^ pairs[:, 1]
        length *= 2
    return (_shift(_MASK, n) ^ int(reg[0])) ^ _MASK


# RFC 3720 (iSCSI) appendix B.4 vectors and the "123456789" check value.
KNOWN_VECTORS: list[tuple[bytes, int]] = [
    (b"123456789", 0xE3069283),
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
]
