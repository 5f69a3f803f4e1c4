"""Wire dtypes: little-endian byte layout, bf16/f16 rounding, exact decode."""

import unittest

import numpy as np

import support  # noqa: F401  (puts src on the import path)
from ntk_sidecar.dtypes import decode, encode, from_bf16_bits, round_trip, to_bf16_bits


class DTypeTest(unittest.TestCase):
    def test_little_endian_bytes(self) -> None:
        # IEEE 754 bit patterns of 1.0 and -2.5, least significant byte first.
        self.assertEqual(encode(np.array([1.0, -2.5]), "f32").tobytes(), bytes.fromhex("0000803f000020c0"))
        self.assertEqual(encode(np.array([1.0]), "f64").tobytes(), bytes.fromhex("000000000000f03f"))
        self.assertEqual(encode(np.array([1.0, -2.5]), "f16").tobytes(), bytes.fromhex("003c00c1"))
        self.assertEqual(encode(np.array([1.0, -2.5]), "bf16").tobytes(), bytes.fromhex("803f20c0"))

    def test_bf16_rounds_to_nearest_even(self) -> None:
        # 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even mantissa (1.0);
        # 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties go to 1 + 2^-6 (even).
        x = np.array([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20], dtype=np.float32)
        got = from_bf16_bits(to_bf16_bits(x))
        np.testing.assert_array_equal(got, np.array([1.0, 1 + 2**-6, 1 + 2**-7], dtype=np.float32))

    def test_bf16_keeps_nan_and_inf(self) -> None:
        got = from_bf16_bits(to_bf16_bits(np.array([np.nan, np.inf, -np.inf], dtype=np.float32)))
        self.assertTrue(np.isnan(got[0]))
        self.assertEqual(list(got[1:]), [np.inf, -np.inf])

    def test_round_trip_error_bounds(self) -> None:
        rng = np.random.default_rng(3)
        # Magnitudes in [e^-5, e^5]: inside the normal range of every format (f16 subnormals start at 6.1e-5).
        x = rng.choice([-1.0, 1.0], 10_000) * np.exp(rng.uniform(-5, 5, 10_000))
        # Unit roundoff of each format: 2^-24 (f32), 2^-11 (f16), 2^-8 (bf16); f64 is exact.
        for dtype, u in (("f64", 0.0), ("f32", 2.0**-24), ("f16", 2.0**-11), ("bf16", 2.0**-8)):
            rel = np.abs(round_trip(x, dtype) - x) / np.abs(x)
            self.assertLessEqual(rel.max(), u * (1 + 1e-12), dtype)
        # Decoding is exact: the float64 values of already-rounded data survive a second trip unchanged.
        for dtype in ("f32", "f16", "bf16"):
            once = round_trip(x, dtype)
            np.testing.assert_array_equal(round_trip(once, dtype), once)

    def test_decode_checks_length(self) -> None:
        with self.assertRaisesRegex(ValueError, "3 bytes is not a whole number of f32 elements"):
            decode(b"abc", "f32")
        with self.assertRaisesRegex(ValueError, "wire dtype 'f8'"):
            encode(np.zeros(1), "f8")


if __name__ == "__main__":
    unittest.main()
