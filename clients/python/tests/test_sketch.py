"""The (seed, block) rule for Ω (sketch.py): exact construction, independence of P and of how the columns are
split, and the moments that make E[Z Zᵀ] = K."""

import math
import unittest

import numpy as np

import support  # noqa: F401
from ntk_sidecar.sketch import OMEGA_BLOCK_ROWS, omega_block, omega_pieces, omega_rows, sketch_reference


class SketchRuleTest(unittest.TestCase):
    def test_block_is_pcg64_of_seed_and_block(self) -> None:
        # The rule, written out independently: a full 4096 x m draw from PCG64([seed, b]), scaled by 1/sqrt(m).
        m = 5
        want = np.random.Generator(np.random.PCG64([42, 3])).standard_normal((4096, m)) / math.sqrt(m)
        np.testing.assert_array_equal(omega_block(42, 3, m), want)
        signs = np.random.Generator(np.random.PCG64([42, 3])).integers(0, 2, size=(4096, m), dtype=np.uint8)
        np.testing.assert_array_equal(omega_block(42, 3, m, "rademacher"), (2.0 * signs - 1.0) / math.sqrt(m))
        self.assertEqual(OMEGA_BLOCK_ROWS, 4096)

    def test_rows_do_not_depend_on_the_split(self) -> None:
        m = 3
        whole = omega_rows(7, m, "gaussian", 0, 10_000)
        # Any split of the columns (leaf boundaries, groups) sees the same rows of Ω.
        for start, stop in ((0, 1), (4095, 4097), (5000, 10_000), (8191, 8193)):
            np.testing.assert_array_equal(omega_rows(7, m, "gaussian", start, stop), whole[start:stop])
        pieces = list(omega_pieces(7, m, "gaussian", 4000, 9000))
        self.assertEqual([(a, b) for a, b, _ in pieces], [(4000, 4096), (4096, 8192), (8192, 9000)])
        # Ω does not depend on P: a longer Ω starts with the shorter one.
        np.testing.assert_array_equal(omega_rows(7, m, "gaussian", 0, 20_000)[:10_000], whole)

    def test_seeds_and_blocks_differ(self) -> None:
        a = omega_block(1, 0, 4)
        self.assertFalse(np.array_equal(a, omega_block(2, 0, 4)))
        self.assertFalse(np.array_equal(a, omega_block(1, 1, 4)))

    def test_moments(self) -> None:
        # Entries N(0, 1/m): over 4096·64 = 262144 draws the sample variance·m is 1 ± ~0.003 (sd sqrt(2/262144));
        # 0.02 is > 6 sd. Rademacher entries are exactly ±1/sqrt(m).
        m = 64
        g = omega_block(9, 0, m)
        self.assertAlmostEqual(float(g.var() * m), 1.0, delta=0.02)
        self.assertAlmostEqual(float(g.mean()), 0.0, delta=0.01)
        r = omega_block(9, 0, m, "rademacher")
        np.testing.assert_array_equal(np.abs(r), np.full_like(r, 1 / math.sqrt(m)))
        self.assertAlmostEqual(float((r > 0).mean()), 0.5, delta=0.01)

    def test_sketch_is_unbiased_for_the_kernel(self) -> None:
        # E[Z Zᵀ] = J E[Ω Ωᵀ] Jᵀ = K. Averaging over 200 seeds shrinks the sketch error by sqrt(200); with
        # m = 50 the relative Frobenius error of one sketch is ≈ sqrt((PR+1)/m) ≤ 0.5 (docs/science.md A0), of the
        # average ≈ 0.035; 0.1 leaves room.
        rng = np.random.default_rng(0)
        j = rng.standard_normal((6, 300))
        k = j @ j.T
        avg = sum(sketch_reference(j, s, 50) @ sketch_reference(j, s, 50).T for s in range(200)) / 200
        self.assertLess(np.linalg.norm(avg - k) / np.linalg.norm(k), 0.1)

    def test_bad_arguments(self) -> None:
        with self.assertRaisesRegex(ValueError, "sketch kind 'uniform'"):
            omega_block(0, 0, 4, "uniform")
        with self.assertRaisesRegex(ValueError, "sketch dim m = 0"):
            omega_block(0, 0, 0)


if __name__ == "__main__":
    unittest.main()
