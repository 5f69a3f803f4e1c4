#!/usr/bin/env python3
"""Benchmark (not a test): the projected NTK (Mohamadi, Bae & Sutherland, ICML 2023) against the traced kernel.

For each model, at initialisation and after SGD training (lr 0.1, batch 64, cross-entropy), on a probe of n = 128
training samples: the traced kernel K̄ = (1/C) Σ_c K_(ic),(jc) (TorchNtk mode="gram", reduction="trace": n·C
backward passes) against TorchNtk(projection="sum") (the pNTK, Σ_c f_c/√C: n backward passes) and
projection="random" with k = 1, 4 directions. Reported: relative Frobenius error ‖K_p − K̄‖_F/‖K̄‖_F, relative
error of λ_max, the eigen-decay exponent α of each (least-squares slope of log λ_i against log i, i = 2…32;
λ_i ∝ i^−α) and the build time of a snapshot (one thread).

    nice -n 5 /usr/bin/python3 clients/python/scripts/bench_projected_ntk.py [--tasks digits-w512 fmnist-mlp ...]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_tasks  # noqa: E402
from ntk_sidecar.torch_adapter import TorchNtk  # noqa: E402

VARIANTS = {"sum": dict(projection="sum"), "random k=1": dict(projection="random", projection_dim=1),
            "random k=4": dict(projection="random", projection_dim=4),
            "random k=10 (= C)": dict(projection="random", projection_dim=10)}


def decay_exponent(eig: np.ndarray, lo: int = 2, hi: int = 32) -> float:
    lam = np.sort(eig)[::-1][lo - 1:hi]
    i = np.arange(lo, lo + len(lam))
    return float(-np.polyfit(np.log(i), np.log(np.maximum(lam, 1e-300)), 1)[0])


def compare(reference: np.ndarray, approx: np.ndarray) -> dict[str, float]:
    er, ea = np.linalg.eigvalsh(reference), np.linalg.eigvalsh(approx)
    return {"frob": float(np.linalg.norm(approx - reference) / np.linalg.norm(reference)),
            "lam_max": float(abs(ea[-1] - er[-1]) / er[-1]),
            "alpha_ref": decay_exponent(er), "alpha": decay_exponent(ea)}


def gram(ntk: TorchNtk) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    k = ntk.kernel_tensor().to_dense()
    return k, time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", nargs="*", default=["digits-w512", "fmnist-mlp", "fmnist-cnn"])
    p.add_argument("--steps", nargs="*", type=int, default=[0, 1000])
    p.add_argument("--probe", type=int, default=128)
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"load average {open('/proc/loadavg').read().split()[:3]}")
    print("| model | step | kernel | ‖K_p − K̄‖_F/‖K̄‖_F | λ_max rel. err. | α (K̄ → K_p) | build s (K̄ → K_p) |")
    print("|---|---|---|---|---|---|---|")
    for name in args.tasks:
        built = bench_tasks.task(name)
        if built is None:
            print(f"| {name} | – | dataset missing | | | | |")
            continue
        model, x, y = built
        probe = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(7))[:args.probe]]
        done = 0
        for step in args.steps:
            bench_tasks.train(model, x, y, step - done)
            done = step
            ref, t_ref = gram(TorchNtk(model, probe, mode="gram", reduction="trace"))
            for label, kw in VARIANTS.items():
                k, t = gram(TorchNtk(model, probe, mode="gram", **kw))
                m = compare(ref, k)
                print(f"| {name} | {step} | {label} | {m['frob']:.3f} | {m['lam_max']:.3f} | "
                      f"{m['alpha_ref']:.2f} → {m['alpha']:.2f} | {t_ref:.3f} → {t:.3f} |", flush=True)
    print(f"load average {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
