"""A seeded Jacobian J (N x P) with a prescribed kernel spectrum, generated column block by column block.

J = U diag(sqrt(lambda)) V^T with lambda_i = i^-alpha (docs/science.md C1), U Haar-orthogonal N x N and V a
P x N matrix with orthonormal columns, so K = J J^T = U diag(lambda) U^T exactly.

V is never materialised: V = G (G^T G)^{-1/2} for a Gaussian G (P x N) whose row blocks come from
per-block seeded generators. One pass accumulates G^T G (N x N); afterwards any column range of J is
    J[:, a:b] = M G[a:b]^T,  M = U diag(sqrt(lambda)) (G^T G)^{-1/2},
so memory is O(N^2 + N * block) whatever P is (P = 10^6, N = 128 works in a few hundred MB at most).
"""

from __future__ import annotations

import numpy as np

GEN_BLOCK = 1024  # rows of G per seeded generator; fixed so J does not depend on how it is chunked


class PrescribedJacobian:
    def __init__(self, rows: int, cols: int, alpha: float, seed: int, lambda1: float = 1.0) -> None:
        if rows < 1 or cols < rows:
            raise ValueError(f"need 1 <= N <= P for orthonormal V, got N={rows}, P={cols}")
        self.rows = rows
        self.cols = cols
        self.alpha = alpha
        self.seed = seed
        self.eigenvalues = lambda1 * np.arange(1, rows + 1, dtype=np.float64) ** (-alpha)
        rng = np.random.default_rng([seed, 0])
        q, r = np.linalg.qr(rng.standard_normal((rows, rows)))
        self.u = q * np.sign(np.diag(r))  # sign fix makes Q Haar-distributed
        gram = np.zeros((rows, rows))
        for start in range(0, cols, GEN_BLOCK):
            g = self._g_block(start // GEN_BLOCK)
            gram += g.T @ g
        w_vals, w_vecs = np.linalg.eigh(gram)
        inv_sqrt = (w_vecs / np.sqrt(w_vals)) @ w_vecs.T
        self.m = (self.u * np.sqrt(self.eigenvalues)) @ inv_sqrt

    def _g_block(self, block: int) -> np.ndarray:
        length = min(GEN_BLOCK, self.cols - block * GEN_BLOCK)
        return np.random.default_rng([self.seed, 1, block]).standard_normal((length, self.rows))

    def columns(self, start: int, stop: int) -> np.ndarray:
        """J[:, start:stop] as a C-contiguous float64 (N, stop - start) array."""
        if not 0 <= start < stop <= self.cols:
            raise ValueError(f"column range [{start}, {stop}) outside [0, {self.cols})")
        first, last = start // GEN_BLOCK, (stop - 1) // GEN_BLOCK
        g = np.concatenate([self._g_block(b) for b in range(first, last + 1)], axis=0)
        g = g[start - first * GEN_BLOCK: stop - first * GEN_BLOCK]
        return np.ascontiguousarray(self.m @ g.T)


# --- wire dtypes (sidecar.proto DType): little-endian bytes, and the float64 values they decode to ------

ITEMSIZE = {"f32": 4, "f64": 8, "f16": 2, "bf16": 2}
PROTO_DTYPE = {"f32": "DTYPE_F32", "f64": "DTYPE_F64", "f16": "DTYPE_F16", "bf16": "DTYPE_BF16"}


def encode(values: np.ndarray, dtype: str) -> tuple[bytes, np.ndarray]:
    """Row-major little-endian bytes of `values` in `dtype`, and exactly what a decoder gets back (float64)."""
    if dtype == "f64":
        wire = np.ascontiguousarray(values, dtype="<f8")
        return wire.tobytes(), wire.astype(np.float64)
    if dtype in ("f32", "f16"):
        wire = np.ascontiguousarray(values, dtype="<f4" if dtype == "f32" else "<f2")
        return wire.tobytes(), wire.astype(np.float64)
    if dtype == "bf16":
        # Round to nearest even on the upper 16 bits of the binary32 pattern (finite inputs only).
        bits = np.ascontiguousarray(values, dtype="<f4").view("<u4").astype(np.uint64)
        upper = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
        decoded = (upper.astype("<u4") << 16).view("<f4").astype(np.float64)
        return upper.tobytes(), decoded
    raise ValueError(f"unknown dtype {dtype!r}; expected one of {sorted(ITEMSIZE)}")


def decode(data: bytes, dtype: str, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of `encode` for checking what was put on the wire."""
    if dtype == "bf16":
        upper = np.frombuffer(data, dtype="<u2")
        out = (upper.astype("<u4") << 16).view("<f4")
    else:
        out = np.frombuffer(data, dtype={"f32": "<f4", "f64": "<f8", "f16": "<f2"}[dtype])
    return out.astype(np.float64).reshape(shape)


def traced(kernel: np.ndarray, outputs: int) -> np.ndarray:
    """Kbar[i,j] = (1/C) sum_c K[(i,c),(j,c)] with sample-major rows i*C + c (docs/science.md §0)."""
    n = kernel.shape[0] // outputs
    blocks = kernel.reshape(n, outputs, n, outputs)
    return np.einsum("icjc->ij", blocks) / outputs


def spectrum(kernel: np.ndarray) -> np.ndarray:
    """Eigenvalues of a symmetric kernel, descending (float64 LAPACK)."""
    sym = (kernel + kernel.T) / 2
    return np.linalg.eigvalsh(sym)[::-1].copy()
