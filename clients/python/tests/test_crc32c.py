"""CRC-32C: RFC 3720 vectors and the vectorised path against the byte loop."""

import unittest

import numpy as np

import support  # noqa: F401
from ntk_sidecar.crc32c import KNOWN_VECTORS, crc32c, crc32c_bytewise


class Crc32cTest(unittest.TestCase):
    def test_known_vectors(self) -> None:
        for data, want in KNOWN_VECTORS:
            self.assertEqual(crc32c_bytewise(data), want, data[:12])
            self.assertEqual(crc32c(data), want, data[:12])

    def test_vectorised_matches_byte_loop(self) -> None:
        rng = np.random.default_rng(5)
        # Around the vectorised threshold (256 bytes), lengths that are not a multiple of the 64-byte lanes or
        # whose lane count is not a power of two (left padding), one exact power of two, and a few MiB.
        for n in (0, 1, 255, 256, 257, 4096, 70_001, 3 * (1 << 20) + 5):
            data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
            self.assertEqual(crc32c(data), crc32c_bytewise(data), n)

    def test_ndarray_is_its_bytes(self) -> None:
        a = np.arange(5000, dtype="<f4")
        self.assertEqual(crc32c(a), crc32c_bytewise(a.tobytes()))


if __name__ == "__main__":
    unittest.main()
