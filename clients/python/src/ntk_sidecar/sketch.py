"""The sketch matrix Ω ∈ R^{P×m} of Z = J Ω (docs/science.md §0 input mode 3), generated the same way by every
framework.

The rule (a contract between the torch, JAX and numpy paths; change it and sketches stop being comparable):
  * Ω's rows are cut into blocks of OMEGA_BLOCK_ROWS = 4096 rows: block b holds rows [4096·b, 4096·(b+1)).
  * Block b is drawn on the host by numpy's PCG64 seeded with the pair [seed, b]:
        g = numpy.random.Generator(numpy.random.PCG64([seed, b]))
        GAUSSIAN:   g.standard_normal((4096, m)) / sqrt(m)                    (entries N(0, 1/m))
        RADEMACHER: (2·g.integers(0, 2, size=(4096, m), dtype=uint8) − 1) / sqrt(m)   (entries ±1/√m)
    always a full 4096×m draw in float64, C order; rows past P are discarded.
So Ω depends only on (seed, m, kind), never on P, the leaf structure, the device or the framework; every
snapshot of a run (same SketchSpec) uses the same Ω, and at most one block of it is ever held at a time
(an adapter may cache blocks under a byte budget). E[Ω Ωᵀ] = I_P, hence E[Z Zᵀ] = J Jᵀ = K (docs/science.md A0).
"""

from __future__ import annotations

import math
from typing import Iterator, Literal

import numpy as np

OMEGA_BLOCK_ROWS = 4096

SketchKind = Literal["gaussian", "rademacher"]


def check_kind(kind: str) -> SketchKind:
    if kind not in ("gaussian", "rademacher"):
        raise ValueError(f"sketch kind {kind!r} is not 'gaussian' or 'rademacher'")
    return kind  # type: ignore[return-value]


def omega_block(seed: int, block: int, dim: int, kind: str = "gaussian") -> np.ndarray:
    """Block `block` of Ω: OMEGA_BLOCK_ROWS x dim float64 (see the module doc for the rule)."""
    kind = check_kind(kind)
    if dim < 1:
        raise ValueError(f"sketch dim m = {dim}; it must be >= 1")
    if seed < 0 or block < 0:
        raise ValueError(f"sketch seed {seed} and block {block} must be >= 0")
    gen = np.random.Generator(np.random.PCG64([seed, block]))
    root = math.sqrt(dim)
    if kind == "gaussian":
        out = gen.standard_normal((OMEGA_BLOCK_ROWS, dim))
        out /= root
        return out
    signs = gen.integers(0, 2, size=(OMEGA_BLOCK_ROWS, dim), dtype=np.uint8)
    return (2.0 * signs - 1.0) / root


def omega_pieces(seed: int, dim: int, kind: str, start: int, stop: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yields (a, b, Ω[a:b]) covering rows [start, stop) of Ω, one block (or part of one) at a time."""
    if not 0 <= start <= stop:
        raise ValueError(f"bad Ω row range [{start}, {stop})")
    a = start
    while a < stop:
        block = a // OMEGA_BLOCK_ROWS
        base = block * OMEGA_BLOCK_ROWS
        b = min(stop, base + OMEGA_BLOCK_ROWS)
        yield a, b, omega_block(seed, block, dim, kind)[a - base:b - base]
        a = b


def omega_rows(seed: int, dim: int, kind: str, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of Ω as one float64 array (for references and tests; adapters use omega_pieces)."""
    out = np.empty((stop - start, dim))
    for a, b, piece in omega_pieces(seed, dim, kind, start, stop):
        out[a - start:b - start] = piece
    return out


def sketch_reference(jacobian: np.ndarray, seed: int, dim: int, kind: str = "gaussian",
                     column_offset: int = 0) -> np.ndarray:
    """Z = J Ω in float64 for a Jacobian whose first column is column `column_offset` of the full J."""
    j = np.asarray(jacobian, dtype=np.float64)
    return j @ omega_rows(seed, dim, kind, column_offset, column_offset + j.shape[1])
