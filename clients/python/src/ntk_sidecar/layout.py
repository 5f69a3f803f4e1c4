"""Column layout of the Jacobian: which parameter leaf owns which columns, framework-free.

J's columns are the trainable parameters flattened leaf by leaf, in the framework's canonical order
(torch: `module.named_parameters()` with requires_grad; JAX: `jax.tree_util.tree_flatten` order), each leaf
in C (row-major) order. Column `offsets[k]` is the first column of leaf k. The layout also groups leaves so
that the Jacobian of one group (N rows x its columns) stays under a memory budget, and cuts a leaf's columns
into chunk-sized ranges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class ParamLayout:
    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    sizes: tuple[int, ...]
    offsets: tuple[int, ...]

    @staticmethod
    def from_shapes(names: Sequence[str], shapes: Sequence[Sequence[int]]) -> "ParamLayout":
        if len(names) != len(shapes):
            raise ValueError(f"{len(names)} names for {len(shapes)} shapes")
        if not names:
            raise ValueError("no trainable parameters: the Jacobian would have 0 columns")
        norm = tuple(tuple(int(d) for d in s) for s in shapes)
        sizes = tuple(math.prod(s) for s in norm)
        offsets = []
        at = 0
        for size in sizes:
            offsets.append(at)
            at += size
        return ParamLayout(tuple(names), norm, sizes, tuple(offsets))

    @property
    def total(self) -> int:
        """P, the number of Jacobian columns."""
        return self.offsets[-1] + self.sizes[-1]

    def columns(self, leaf: int) -> tuple[int, int]:
        """[start, stop) columns of leaf `leaf`."""
        return self.offsets[leaf], self.offsets[leaf] + self.sizes[leaf]

    def groups(self, rows: int, itemsize: int, max_bytes: int) -> list[list[int]]:
        """Consecutive leaves grouped so that rows x (group columns) x itemsize <= max_bytes; a leaf that alone
        exceeds the budget forms its own group (a Jacobian cannot be split below one leaf by jacrev)."""
        groups: list[list[int]] = []
        current: list[int] = []
        current_bytes = 0
        for leaf, size in enumerate(self.sizes):
            leaf_bytes = rows * size * itemsize
            if current and current_bytes + leaf_bytes > max_bytes:
                groups.append(current)
                current, current_bytes = [], 0
            current.append(leaf)
            current_bytes += leaf_bytes
        if current:
            groups.append(current)
        return groups


def column_ranges(start: int, stop: int, rows: int, itemsize: int, max_chunk_bytes: int) -> list[tuple[int, int]]:
    """[a, b) column ranges covering [start, stop) with rows x (b - a) x itemsize <= max_chunk_bytes each."""
    per_chunk = max_chunk_bytes // (rows * itemsize)
    if per_chunk < 1:
        raise ValueError(
            f"one column of {rows} rows x {itemsize} bytes = {rows * itemsize} bytes is over the chunk limit of "
            f"{max_chunk_bytes} bytes; use fewer probe rows or a larger chunk size")
    return [(a, min(a + per_chunk, stop)) for a in range(start, stop, per_chunk)]


def row_ranges(rows: int, cols: int, itemsize: int, max_chunk_bytes: int) -> list[tuple[int, int]]:
    """[a, b) row ranges covering [0, rows) with (b - a) x cols x itemsize <= max_chunk_bytes each."""
    per_chunk = max_chunk_bytes // (cols * itemsize)
    if per_chunk < 1:
        raise ValueError(
            f"one row of {cols} columns x {itemsize} bytes = {cols * itemsize} bytes is over the chunk limit of "
            f"{max_chunk_bytes} bytes")
    return [(a, min(a + per_chunk, rows)) for a in range(0, rows, per_chunk)]
