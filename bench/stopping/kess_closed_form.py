"""Closed-form kernel-regime loss curve and KESS (docs/science.md A9 discrete GD, A12 K2), for the teacher–student task.

For a network that stays linear around θ₀ and trains with full-batch GD on MSE L = c_L Σ r², the residual on the
training set is r_s = (I − 2c_L η K₀)^s r₀, so L(s) = c_L Σ_i c_i² q_i^{2s} with q_i = 1 − 2c_L η λ_i and
c = Uᵀ r₀. K2 is the first s > 0 with g(s)·s ≤ ρ·(L(0) − L(s)), g = −dL/ds (s₀ = 0). Checked against C6/C7 by
`python3 kess_closed_form.py` (example A: L_disc(10) = 0.2247557056, K2 = 28.08 on the continuous curve).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class KernelGdCurve:
    lam: np.ndarray      # eigenvalues of K₀, descending
    coef2: np.ndarray    # c_i² (residual energy per eigenvector)
    c_l: float
    eta: float
    continuous: bool = False

    def _log_q2(self) -> np.ndarray:
        rate = 2 * self.c_l * self.eta * self.lam
        if self.continuous:
            return -2 * rate                       # e^{−2·(2c_L η λ) s}: gradient flow (A9, continuous)
        return 2 * np.log(np.maximum(np.abs(1 - rate), 1e-300))

    def loss(self, s: float) -> float:
        return float(self.c_l * np.sum(self.coef2 * np.exp(self._log_q2() * s)))

    def gain(self, s: float) -> float:
        lq = self._log_q2()
        return float(-self.c_l * np.sum(self.coef2 * lq * np.exp(lq * s)))


def kernel_gd_curve(k: np.ndarray, r0: np.ndarray, c_l: float, eta: float, continuous: bool = False) -> KernelGdCurve:
    lam, u = np.linalg.eigh((k + k.T) / 2)
    order = np.argsort(lam)[::-1]
    lam, u = np.maximum(lam[order], 0.0), u[:, order]
    return KernelGdCurve(lam, (u.T @ r0) ** 2, c_l, eta, continuous)


def kess_k2_discrete(curve: KernelGdCurve, rho: float = 0.1, s_max: float = 1e9) -> float:
    """First s > 0 where g(s)·s ≤ ρ(L(0) − L(s)): a log grid brackets the first crossing, bisection refines it."""
    l0 = curve.loss(0.0)

    def excess(s: float) -> float:
        return curve.gain(s) * s - rho * (l0 - curve.loss(s))
    grid = np.geomspace(1e-3, s_max, 4000)
    prev = grid[0]
    for s in grid:
        if excess(s) <= 0:
            lo, hi = prev, s
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                lo, hi = (lo, mid) if excess(mid) <= 0 else (mid, hi)
            return 0.5 * (lo + hi)
        prev = s
    return float("inf")


if __name__ == "__main__":
    # docs/science.md C6/C7, example A: K = diag(100, 10, 0.1), N = 3, c_L = 1/6, η = 0.015, f₀ = 0, y = 1.
    k = np.diag([100.0, 10.0, 0.1])
    disc = kernel_gd_curve(k, -np.ones(3), 1 / 6, 0.015)
    cont = kernel_gd_curve(k, -np.ones(3), 1 / 6, 0.015, continuous=True)
    assert abs(disc.loss(10) - 0.2247557056) < 1e-9, disc.loss(10)
    assert abs(cont.loss(10) - 0.2263291125) < 1e-9, cont.loss(10)
    assert abs(kess_k2_discrete(cont) - 28.0763) < 1e-3, kess_k2_discrete(cont)
    print(f"C6/C7 ok: L_disc(10) = {disc.loss(10):.10f}, K2 (continuous) = {kess_k2_discrete(cont):.4f}, "
          f"K2 (discrete) = {kess_k2_discrete(disc):.4f}")
