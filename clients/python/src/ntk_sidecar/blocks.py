"""Array-library-neutral reductions of per-leaf Jacobians: sample-major blocks, sketch Z = J Ω, Gram J Jᵀ, trace.

Used by the JAX adapter with `xp = jax.numpy` (on the device) and by tests and references with `xp = numpy`;
the torch adapter has its own torch versions of the same formulas. `matmul(a, b)` is passed in so that JAX can
ask for full float32 precision (no TF32/bf16 passes, docs/science.md A0).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .layout import ParamLayout
from .sketch import omega_pieces

Matmul = Callable[[Any, Any], Any]


def leaf_blocks(leaves: Sequence[Any], layout: ParamLayout, samples: int, outputs: int) -> list[tuple[int, Any]]:
    """(first column, N x size) per leaf from per-sample Jacobian leaves shaped (n, C, *leaf_shape) — or
    (n, *leaf_shape) when C = 1. Rows come out sample-major (row i·C + c) because (n, C) is C order."""
    if len(leaves) != len(layout.sizes):
        raise ValueError(f"{len(leaves)} Jacobian leaves for a layout of {len(layout.sizes)} parameter leaves")
    rows = samples * outputs
    out = []
    for k, leaf in enumerate(leaves):
        want = rows * layout.sizes[k]
        if int(np.prod(leaf.shape)) != want:
            raise ValueError(
                f"Jacobian leaf {layout.names[k]} has shape {tuple(leaf.shape)}; expected n={samples} x C={outputs} "
                f"x {layout.shapes[k]} = {want} elements")
        out.append((layout.offsets[k], leaf.reshape(rows, layout.sizes[k])))
    return out


def sketch_from_blocks(blocks: Sequence[tuple[int, Any]], seed: int, dim: int, kind: str, *, xp: Any = np,
                       matmul: Matmul | None = None, to_array: Callable[[np.ndarray], Any] | None = None) -> Any:
    """Z = Σ_b J_b Ω[cols of b] with Ω from sketch.py's (seed, block) rule, accumulated in float64 when xp
    supports it (JAX without x64 keeps float32)."""
    mm = matmul or (lambda a, b: a @ b)
    conv = to_array or (lambda a: xp.asarray(a))
    z = None
    for offset, block in blocks:
        cols = block.shape[1]
        for a, b, piece in omega_pieces(seed, dim, kind, offset, offset + cols):
            # Ω in the Jacobian's dtype (float32 on a device, float64 for references), as the torch adapter does.
            part = mm(block[:, a - offset:b - offset], conv(piece.astype(np.dtype(block.dtype))))
            z = part if z is None else z + part
    if z is None:
        raise ValueError("no Jacobian blocks to sketch")
    return z


def gram_from_blocks(blocks: Sequence[tuple[int, Any]], *, xp: Any = np, matmul: Matmul | None = None,
                     dtype: Any = None) -> Any:
    """K = Σ_b J_b J_bᵀ, each block cast to `dtype` (default xp.float64) first."""
    mm = matmul or (lambda a, b: a @ b)
    dt = dtype if dtype is not None else xp.float64
    k = None
    for _, block in blocks:
        j = xp.asarray(block, dtype=dt)
        part = mm(j, j.T)
        k = part if k is None else k + part
    if k is None:
        raise ValueError("no Jacobian blocks for a Gram")
    return (k + k.T) / 2


def trace_gram(gram: Any, samples: int, outputs: int, xp: Any = np) -> Any:
    """K̄[i,j] = (1/C) Σ_c K[(i,c),(j,c)] (docs/science.md §0, neural-tangents trace_axes)."""
    k = gram.reshape(samples, outputs, samples, outputs)
    return xp.einsum("icjc->ij", k) / outputs
