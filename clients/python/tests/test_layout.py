"""Column layout of parameter leaves, grouping under a byte budget, chunk ranges."""

import unittest

import support  # noqa: F401
from ntk_sidecar.layout import ParamLayout, column_ranges, row_ranges


class LayoutTest(unittest.TestCase):
    def test_offsets_follow_leaf_order(self) -> None:
        lay = ParamLayout.from_shapes(["w1", "b1", "w2"], [(4, 3), (4,), (2, 4)])
        self.assertEqual(lay.sizes, (12, 4, 8))
        self.assertEqual(lay.offsets, (0, 12, 16))
        self.assertEqual(lay.total, 24)
        self.assertEqual(lay.columns(2), (16, 24))

    def test_groups_respect_budget_and_keep_order(self) -> None:
        lay = ParamLayout.from_shapes(list("abcd"), [(10,), (30,), (5,), (100,)])
        rows, item = 2, 4  # 8 bytes per column
        groups = lay.groups(rows, item, max_bytes=8 * 40)
        self.assertEqual(groups, [[0, 1], [2], [3]])  # d alone exceeds the budget: its own group
        self.assertEqual([k for g in groups for k in g], [0, 1, 2, 3])
        self.assertEqual(lay.groups(rows, item, max_bytes=10**9), [[0, 1, 2, 3]])

    def test_column_ranges_cover_exactly_and_fit(self) -> None:
        for start, stop, rows, item, limit in ((0, 1000, 7, 4, 1024), (13, 14, 3, 8, 24), (5, 905, 100, 2, 4096)):
            ranges = column_ranges(start, stop, rows, item, limit)
            self.assertEqual(ranges[0][0], start)
            self.assertEqual(ranges[-1][1], stop)
            for (a, b), (c, _) in zip(ranges, ranges[1:]):
                self.assertEqual(b, c)
            for a, b in ranges:
                self.assertLessEqual(rows * (b - a) * item, limit)
                self.assertGreater(b, a)

    def test_row_ranges(self) -> None:
        ranges = row_ranges(10, 3, 8, 50)  # 24 bytes per row: 2 rows per chunk
        self.assertEqual(ranges, [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)])

    def test_errors_say_the_numbers(self) -> None:
        with self.assertRaisesRegex(ValueError, "one column of 300 rows x 4 bytes = 1200 bytes is over the chunk limit of 1024"):
            column_ranges(0, 10, 300, 4, 1024)
        with self.assertRaisesRegex(ValueError, "no trainable parameters"):
            ParamLayout.from_shapes([], [])


if __name__ == "__main__":
    unittest.main()
